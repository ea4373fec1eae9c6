#include "commands/geohash.h"

#include <gtest/gtest.h>

#include <cmath>

namespace fdb::geo {
namespace {

TEST(GeohashTest, ScoresAsRedisStoresThem) {
  // GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania, on Redis 7.0.
  EXPECT_EQ(Score(13.361389, 38.115556), 3479099956230698ULL);
  EXPECT_EQ(Score(15.087269, 37.502669), 3479447370796909ULL);
}

TEST(GeohashTest, DecodeIsTheCellCentre) {
  double lon, lat;
  Decode(3479099956230698ULL, &lon, &lat);
  EXPECT_NEAR(lon, 13.36138933897018433, 1e-13);
  EXPECT_NEAR(lat, 38.11555639549629859, 1e-13);
  // Encoding the centre gives back the cell.
  EXPECT_EQ(Score(lon, lat), 3479099956230698ULL);
}

TEST(GeohashTest, HashStrings) {
  EXPECT_EQ(HashString(3479099956230698ULL), "sqc8b49rny0");
  EXPECT_EQ(HashString(3479447370796909ULL), "sqdtr74hyu0");
}

TEST(GeohashTest, Distances) {
  double lon1, lat1, lon2, lat2;
  Decode(3479099956230698ULL, &lon1, &lat1);
  Decode(3479447370796909ULL, &lon2, &lat2);
  EXPECT_NEAR(Distance(lon1, lat1, lon2, lat2), 166274.1516, 1e-4);
  EXPECT_EQ(Distance(10, 10, 10, 10), 0);
  EXPECT_NEAR(Distance(0, 0, 0, 1), LatDistance(0, 1), 1e-9);
}

TEST(GeohashTest, OutOfRange) {
  Cell c;
  EXPECT_FALSE(Encode(181, 0, 26, &c));
  EXPECT_FALSE(Encode(0, 85.06, 26, &c));
  EXPECT_TRUE(Encode(-180, -85.05112878, 26, &c));
  EXPECT_EQ(c.bits, 0u);
}

TEST(GeohashTest, SearchCellsCoverTheCircle) {
  Shape s;
  s.lon = 15;
  s.lat = 37;
  s.radius = 200;
  s.to_m = 1000;
  SearchCells sc = CellsFor(s);
  ASSERT_FALSE(sc.cells[0].none());
  // Every point of a ring inside the radius falls in one of the cells' score ranges.
  for (int deg = 0; deg < 360; deg += 5) {
    double lon = 15 + 1.5 * std::cos(deg * M_PI / 180), lat = 37 + 1.5 * std::sin(deg * M_PI / 180);
    double d;
    if (!InShape(s, lon, lat, &d)) continue;
    uint64_t score = Score(lon, lat);
    bool covered = false;
    for (const Cell& c : sc.cells) {
      if (c.none()) continue;
      uint64_t lo, hi;
      CellScores(c, &lo, &hi);
      covered |= score >= lo && score < hi;
    }
    EXPECT_TRUE(covered) << deg;
  }
}

}  // namespace
}  // namespace fdb::geo
