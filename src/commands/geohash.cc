#include "commands/geohash.h"

#include <cmath>

namespace fdb::geo {

namespace {

constexpr double kMercatorMax = 20037726.37;  // half the Equator in Web Mercator meters
constexpr double kPi = 3.14159265358979323846;

double DegRad(double d) { return d * (kPi / 180.0); }
double RadDeg(double r) { return r / (kPi / 180.0); }

// Spreads the low 32 bits of v to the even bit positions.
uint64_t Spread(uint32_t v) {
  uint64_t x = v;
  x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
  x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
  x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
  x = (x | (x << 2)) & 0x3333333333333333ULL;
  x = (x | (x << 1)) & 0x5555555555555555ULL;
  return x;
}

// The even bit positions of v, packed.
uint32_t Squash(uint64_t x) {
  x &= 0x5555555555555555ULL;
  x = (x | (x >> 1)) & 0x3333333333333333ULL;
  x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FULL;
  x = (x | (x >> 4)) & 0x00FF00FF00FF00FFULL;
  x = (x | (x >> 8)) & 0x0000FFFF0000FFFFULL;
  x = (x | (x >> 16)) & 0x00000000FFFFFFFFULL;
  return static_cast<uint32_t>(x);
}

uint64_t Interleave(uint32_t lat, uint32_t lon) { return Spread(lat) | (Spread(lon) << 1); }

// The cell `dlon` columns east and `dlat` rows north of c, wrapping around. Only a coordinate
// that moves is wrapped to `step` bits: a cell of longitude exactly 180 has its longitude one
// past the last column, and its north and south neighbours keep it so (Redis's neighbours do,
// and so its searches from there).
Cell Move(const Cell& c, int dlon, int dlat) {
  const uint64_t mask = (uint64_t{1} << c.step) - 1;
  uint64_t lat = Squash(c.bits), lon = Squash(c.bits >> 1);
  if (dlat != 0) lat = (lat + static_cast<uint64_t>(static_cast<int64_t>(dlat))) & mask;
  if (dlon != 0) lon = (lon + static_cast<uint64_t>(static_cast<int64_t>(dlon))) & mask;
  return Cell{Interleave(static_cast<uint32_t>(lat), static_cast<uint32_t>(lon)), c.step};
}

Area CellAreaIn(const Cell& c, double lat_min, double lat_max) {
  const uint32_t ilat = Squash(c.bits), ilon = Squash(c.bits >> 1);
  const double lat_scale = lat_max - lat_min;
  const double lon_scale = kLonMax - kLonMin;
  const double cells = static_cast<double>(uint64_t{1} << c.step);
  Area a;
  a.lat_min = lat_min + (ilat * 1.0 / cells) * lat_scale;
  a.lat_max = lat_min + ((ilat + 1) * 1.0 / cells) * lat_scale;
  a.lon_min = kLonMin + (ilon * 1.0 / cells) * lon_scale;
  a.lon_max = kLonMin + ((ilon + 1) * 1.0 / cells) * lon_scale;
  return a;
}

// The step whose cells are about the size of the radius (Redis's estimate: the Mercator
// width halved until below the radius, two steps finer, coarser near the poles).
int StepsForRadius(double range_m, double lat) {
  if (range_m == 0) return kStepMax;
  int step = 1;
  while (range_m < kMercatorMax) {
    range_m *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > kStepMax) step = kStepMax;
  return step;
}

// The shape's bounding box: lon_min, lat_min, lon_max, lat_max.
void BoundingBox(const Shape& s, double b[4]) {
  const double height = s.to_m * (s.box ? s.height / 2 : s.radius);
  const double width = s.to_m * (s.box ? s.width / 2 : s.radius);
  const double lat_delta = RadDeg(height / kEarthRadiusM);
  const double lon_delta_top = RadDeg(width / kEarthRadiusM / std::cos(DegRad(s.lat + lat_delta)));
  const double lon_delta_bottom =
      RadDeg(width / kEarthRadiusM / std::cos(DegRad(s.lat - lat_delta)));
  // The box is widest on the side nearer the Equator.
  const bool south = s.lat < 0;
  b[0] = south ? s.lon - lon_delta_bottom : s.lon - lon_delta_top;
  b[2] = south ? s.lon + lon_delta_bottom : s.lon + lon_delta_top;
  b[1] = s.lat - lat_delta;
  b[3] = s.lat + lat_delta;
}

}  // namespace

bool Encode(double lon, double lat, int step, Cell* out, double lat_min, double lat_max) {
  if (lon > kLonMax || lon < kLonMin || lat > kLatMax || lat < kLatMin) return false;
  if (lat < lat_min || lat > lat_max) return false;
  double lat_off = (lat - lat_min) / (lat_max - lat_min);
  double lon_off = (lon - kLonMin) / (kLonMax - kLonMin);
  lat_off *= static_cast<double>(uint64_t{1} << step);
  lon_off *= static_cast<double>(uint64_t{1} << step);
  out->bits = Interleave(static_cast<uint32_t>(lat_off), static_cast<uint32_t>(lon_off));
  out->step = step;
  return true;
}

uint64_t Score(double lon, double lat) {
  Cell c;
  Encode(lon, lat, kStepMax, &c);
  return c.bits << (52 - kStepMax * 2);
}

Area CellArea(const Cell& c) { return CellAreaIn(c, kLatMin, kLatMax); }

void Decode(uint64_t score, double* lon, double* lat) {
  Area a = CellArea(Cell{score, kStepMax});
  *lon = (a.lon_min + a.lon_max) / 2;
  if (*lon > kLonMax) *lon = kLonMax;
  if (*lon < kLonMin) *lon = kLonMin;
  *lat = (a.lat_min + a.lat_max) / 2;
  if (*lat > kLatMax) *lat = kLatMax;
  if (*lat < kLatMin) *lat = kLatMin;
}

std::string HashString(uint64_t score) {
  static constexpr char kAlphabet[] = "0123456789bcdefghjkmnpqrstuvwxyz";
  double lon, lat;
  Decode(score, &lon, &lat);
  // The standard geohash covers latitudes -90..90, not the Mercator band.
  Cell c;
  if (!Encode(lon, lat, kStepMax, &c, -90, 90)) c.bits = 0;
  std::string out(11, '0');
  for (int i = 0; i < 11; i++) {
    // 52 bits make ten characters and two bits; the eleventh is taken as zero, as Redis.
    const int idx = i == 10 ? 0 : static_cast<int>((c.bits >> (52 - (i + 1) * 5)) & 0x1f);
    out[i] = kAlphabet[idx];
  }
  return out;
}

double LatDistance(double lat1, double lat2) {
  return kEarthRadiusM * std::fabs(DegRad(lat2) - DegRad(lat1));
}

double Distance(double lon1, double lat1, double lon2, double lat2) {
  const double lon1r = DegRad(lon1), lon2r = DegRad(lon2);
  const double v = std::sin((lon2r - lon1r) / 2);
  // The same meridian: the arc between the latitudes, without the trigonometry.
  if (v == 0.0) return LatDistance(lat1, lat2);
  const double lat1r = DegRad(lat1), lat2r = DegRad(lat2);
  const double u = std::sin((lat2r - lat1r) / 2);
  const double a = u * u + std::cos(lat1r) * std::cos(lat2r) * v * v;
  return 2.0 * kEarthRadiusM * std::asin(std::sqrt(a));
}

bool InShape(const Shape& s, double lon, double lat, double* dist_m) {
  if (!s.box) {
    *dist_m = Distance(s.lon, s.lat, lon, lat);
    return *dist_m <= s.radius * s.to_m;
  }
  const double height_m = s.height * s.to_m, width_m = s.width * s.to_m;
  if (LatDistance(lat, s.lat) > height_m / 2) return false;
  if (Distance(lon, lat, s.lon, lat) > width_m / 2) return false;
  *dist_m = Distance(s.lon, s.lat, lon, lat);
  return true;
}

SearchCells CellsFor(const Shape& s) {
  double b[4];
  BoundingBox(s, b);
  const double radius_m =
      s.to_m * (s.box ? std::sqrt((s.width / 2) * (s.width / 2) + (s.height / 2) * (s.height / 2))
                      : s.radius);
  int steps = StepsForRadius(radius_m, s.lat);
  Cell centre;
  Encode(s.lon, s.lat, steps, &centre);
  // A neighbour that does not reach the edge of the bounding box means the cells are too
  // small to cover it: one step coarser.
  {
    Area n = CellArea(Move(centre, 0, 1)), so = CellArea(Move(centre, 0, -1));
    Area e = CellArea(Move(centre, 1, 0)), w = CellArea(Move(centre, -1, 0));
    if (steps > 1 &&
        (n.lat_max < b[3] || so.lat_min > b[1] || e.lon_max < b[2] || w.lon_min > b[0])) {
      steps--;
      Encode(s.lon, s.lat, steps, &centre);
    }
  }
  SearchCells out;
  Cell* c = out.cells;
  c[0] = centre;
  c[1] = Move(centre, 0, 1);    // north
  c[2] = Move(centre, 0, -1);   // south
  c[3] = Move(centre, 1, 0);    // east
  c[4] = Move(centre, -1, 0);   // west
  c[5] = Move(centre, 1, 1);    // north-east
  c[6] = Move(centre, -1, 1);   // north-west
  c[7] = Move(centre, 1, -1);   // south-east
  c[8] = Move(centre, -1, -1);  // south-west
  if (steps >= 2) {
    // Neighbours beyond the bounding box cannot hold a match.
    Area a = CellArea(centre);
    if (a.lat_min < b[1]) c[2] = c[8] = c[7] = Cell{};
    if (a.lat_max > b[3]) c[1] = c[5] = c[6] = Cell{};
    if (a.lon_min < b[0]) c[4] = c[8] = c[6] = Cell{};
    if (a.lon_max > b[2]) c[3] = c[7] = c[5] = Cell{};
  }
  return out;
}

void CellScores(const Cell& c, uint64_t* min, uint64_t* max) {
  const int shift = 52 - c.step * 2;
  *min = c.bits << shift;
  *max = (c.bits + 1) << shift;
}

}  // namespace fdb::geo
