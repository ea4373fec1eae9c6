// Geohash as Redis's GEO commands use it, so that a sorted set written by GEOADD here holds the
// same scores as Redis's (and the other way round).
//
// A point is a 52-bit integer, stored as the member's score: longitude in [-180, 180] and
// latitude in the Web Mercator band [-85.05112878, 85.05112878] are each cut into 2^26 steps,
// and the two 26-bit cell numbers are interleaved, the latitude's bits at the even positions,
// the longitude's at the odd ones (so the top bit is the longitude's, as in a standard
// geohash). A cell of `step` bits per axis is the range of scores sharing its top 2*step bits.
//
// A search (GEOSEARCH, GEORADIUS) picks the cell size from the radius, takes the cell of the
// centre and its eight neighbours, drops the neighbours that lie wholly outside the search's
// bounding box, and walks each one's score range in order, keeping the points within the
// shape: the nine cells, their order and the distance formula are Redis's, so results (and the
// order of an unsorted COUNT ... ANY) agree.
#pragma once

#include <cstdint>
#include <string>

namespace fdb::geo {

inline constexpr double kLonMin = -180;
inline constexpr double kLonMax = 180;
inline constexpr double kLatMin = -85.05112878;
inline constexpr double kLatMax = 85.05112878;
inline constexpr int kStepMax = 26;
// The Earth's radius Redis's distances use, in meters.
inline constexpr double kEarthRadiusM = 6372797.560856;

struct Cell {
  uint64_t bits = 0;
  int step = 0;  // bits per axis; 0 with bits 0: no cell
  bool none() const { return bits == 0 && step == 0; }
};

// The cell of (lon, lat) at `step` within the given ranges. False when out of range.
bool Encode(double lon, double lat, int step, Cell* out, double lat_min = kLatMin,
            double lat_max = kLatMax);
// The 52-bit score of a valid point.
uint64_t Score(double lon, double lat);
// The centre of the cell a score names (what GEOPOS returns).
void Decode(uint64_t score, double* lon, double* lat);

// The cell's bounds.
struct Area {
  double lon_min, lon_max, lat_min, lat_max;
};
Area CellArea(const Cell& c);

// GEOHASH's 11-character string for a stored score.
std::string HashString(uint64_t score);

// Great-circle distance in meters (haversine on kEarthRadiusM), and along a meridian.
double Distance(double lon1, double lat1, double lon2, double lat2);
double LatDistance(double lat1, double lat2);

// A search shape; sizes in the request's unit, `to_m` meters per unit.
struct Shape {
  double lon = 0, lat = 0;
  bool box = false;
  double radius = 0;             // !box
  double width = 0, height = 0;  // box
  double to_m = 1;
};

// Whether (lon, lat) lies in the shape, and its distance to the centre in meters.
bool InShape(const Shape& s, double lon, double lat, double* dist_m);

// The cells to scan for a shape, in Redis's order (centre, N, S, E, W, NE, NW, SE, SW); an
// excluded neighbour is none().
struct SearchCells {
  Cell cells[9];
};
SearchCells CellsFor(const Shape& s);
// The score range [min, max) of a cell.
void CellScores(const Cell& c, uint64_t* min, uint64_t* max);

}  // namespace fdb::geo
