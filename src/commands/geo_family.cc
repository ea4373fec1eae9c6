// Geo: GEOADD, GEOPOS, GEODIST, GEOHASH, GEOSEARCH, GEOSEARCHSTORE, GEORADIUS,
// GEORADIUSBYMEMBER and their _RO forms, with Redis 7.0's replies and error texts.
//
// Model: a geo set is a sorted set whose scores are 52-bit geohashes (commands/geohash.h), the
// same scores Redis stores, so the data moves between the two unchanged. Writes go through the
// sorted-set Ops (OpZAdd, OpZStore), so they are logged as zset deltas and images. A search
// walks the score ranges of at most nine geohash cells, as Redis does, and keeps the points
// inside the shape.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands/context.h"
#include "commands/errors.h"
#include "commands/geohash.h"
#include "commands/string_ops.h"
#include "commands/zset_ops.h"

namespace fdb {

namespace {

constexpr const char* kUnitError = "ERR unsupported unit provided. please use M, KM, FT, MI";
constexpr const char* kNoMember = "ERR could not decode requested zset member";

std::string InvalidPair(double lon, double lat) {
  char buf[128];
  snprintf(buf, sizeof(buf), "ERR invalid longitude,latitude pair %f,%f", lon, lat);
  return buf;
}

// Meters per unit; 0 when unknown.
double UnitToMeters(std::string_view u) {
  if (EqualsUpper(u, "M")) return 1;
  if (EqualsUpper(u, "KM")) return 1000;
  if (EqualsUpper(u, "FT")) return 0.3048;
  if (EqualsUpper(u, "MI")) return 1609.34;
  return 0;
}

// A coordinate as GEOPOS replies it: "%.17Lf" with trailing zeros cut (Redis's human form).
void ReplyCoord(CommandContext& ctx, double v) {
  char buf[kLongDoubleChars];
  size_t n = FormatLongDoubleHuman(static_cast<long double>(v), buf);
  ctx.rb.DoubleText(std::string_view(buf, n));
}

void ReplyDistance(CommandContext& ctx, double d) {
  char buf[128];
  int n = snprintf(buf, sizeof(buf), "%.4f", d);
  ctx.rb.Bulk(std::string_view(buf, static_cast<size_t>(n)));
}

// Parses a longitude and a latitude; replies the error and returns false if invalid.
bool ParseLonLat(CommandContext& ctx, std::string_view a, std::string_view b, double* lon,
                 double* lat) {
  if (!ParseScore(a, lon) || !ParseScore(b, lat)) {
    ctx.rb.Error(errors::kNotFloat);
    return false;
  }
  if (*lon < geo::kLonMin || *lon > geo::kLonMax || *lat < geo::kLatMin || *lat > geo::kLatMax) {
    ctx.rb.Error(InvalidPair(*lon, *lat));
    return false;
  }
  return true;
}

// The zset at key for a read; replies WRONGTYPE and returns false for another type.
bool FindGeo(CommandContext& ctx, std::string_view key, const ZSetObject** z) {
  OpResult<const ZSetObject*> r = OpFindZSet(ctx.op(), key);
  if (!r.ok()) {
    ctx.ReplyError(r.status());
    return false;
  }
  *z = *r;
  return true;
}

void CmdGeoAdd(CmdArgs args, CommandContext& ctx) {
  ZAddOptions opts;
  bool ch = false;
  size_t i = 2;
  for (; i < args.size(); i++) {
    if (EqualsUpper(args[i], "NX")) {
      opts.nx = true;
    } else if (EqualsUpper(args[i], "XX")) {
      opts.xx = true;
    } else if (EqualsUpper(args[i], "CH")) {
      ch = true;
    } else {
      break;
    }
  }
  if ((args.size() - i) % 3 != 0 || i == args.size() || (opts.nx && opts.xx)) {
    return ctx.rb.Error(errors::kSyntax);
  }
  const size_t n = (args.size() - i) / 3;
  std::vector<double> scores(n);
  std::vector<std::string_view> members(n);
  for (size_t j = 0; j < n; j++) {
    double lon, lat;
    if (!ParseLonLat(ctx, args[i + 3 * j], args[i + 3 * j + 1], &lon, &lat)) return;
    scores[j] = static_cast<double>(geo::Score(lon, lat));
    members[j] = args[i + 3 * j + 2];
  }
  OpResult<ZAddResult> r = OpZAdd(ctx.op(), args[1], opts, scores, members);
  if (!r.ok()) return ctx.ReplyError(r.status());
  if (r->added + r->updated > 0) ctx.Dirty(static_cast<uint64_t>(r->added + r->updated));
  ctx.rb.Integer(ch ? r->added + r->updated : r->added);
}

void CmdGeoPos(CmdArgs args, CommandContext& ctx) {
  const ZSetObject* z;
  if (!FindGeo(ctx, args[1], &z)) return;
  ctx.rb.ArrayHeader(args.size() - 2);
  for (size_t j = 2; j < args.size(); j++) {
    std::optional<double> s = z ? z->Score(args[j]) : std::nullopt;
    if (!s) {
      ctx.rb.NullArray();
      continue;
    }
    double lon, lat;
    geo::Decode(static_cast<uint64_t>(*s), &lon, &lat);
    ctx.rb.ArrayHeader(2);
    ReplyCoord(ctx, lon);
    ReplyCoord(ctx, lat);
  }
}

void CmdGeoHash(CmdArgs args, CommandContext& ctx) {
  const ZSetObject* z;
  if (!FindGeo(ctx, args[1], &z)) return;
  ctx.rb.ArrayHeader(args.size() - 2);
  for (size_t j = 2; j < args.size(); j++) {
    std::optional<double> s = z ? z->Score(args[j]) : std::nullopt;
    if (!s) {
      ctx.rb.NullBulk();
      continue;
    }
    ctx.rb.Bulk(geo::HashString(static_cast<uint64_t>(*s)));
  }
}

void CmdGeoDist(CmdArgs args, CommandContext& ctx) {
  double to_m = 1;
  if (args.size() == 5) {
    to_m = UnitToMeters(args[4]);
    if (to_m == 0) return ctx.rb.Error(kUnitError);
  } else if (args.size() > 5) {
    return ctx.rb.Error(errors::kSyntax);
  }
  const ZSetObject* z;
  if (!FindGeo(ctx, args[1], &z)) return;
  std::optional<double> a = z ? z->Score(args[2]) : std::nullopt;
  std::optional<double> b = z ? z->Score(args[3]) : std::nullopt;
  if (!a || !b) return ctx.rb.NullBulk();
  double lon1, lat1, lon2, lat2;
  geo::Decode(static_cast<uint64_t>(*a), &lon1, &lat1);
  geo::Decode(static_cast<uint64_t>(*b), &lon2, &lat2);
  ReplyDistance(ctx, geo::Distance(lon1, lat1, lon2, lat2) / to_m);
}

// --- Searches ---

enum SearchFlags : uint32_t {
  kRadius = 1,       // GEORADIUS (centre from LON LAT)
  kByMember = 2,     // GEORADIUSBYMEMBER
  kSearch = 4,       // GEOSEARCH / GEOSEARCHSTORE
  kSearchStore = 8,  // GEOSEARCHSTORE
  kNoStore = 16,     // the _RO forms
};

struct Hit {
  std::string_view member;
  double score;
  double dist_m;
  double lon, lat;
};

// Redis's georadiusGeneric: `src` is the index of the source key.
void GeoSearch(CmdArgs args, CommandContext& ctx, size_t src, uint32_t flags) {
  const ZSetObject* z;
  if (!FindGeo(ctx, args[src], &z)) return;

  geo::Shape shape;
  bool have_center = false, have_shape = false;
  std::string_view member;
  bool from_member = false;
  size_t base = src + 1;
  if (flags & kRadius) {
    if (!ParseLonLat(ctx, args[base], args[base + 1], &shape.lon, &shape.lat)) return;
    have_center = true;
    base += 2;
  } else if (flags & kByMember) {
    member = args[base];
    from_member = true;
    base += 1;
    if (z != nullptr) {
      // As Redis: the member first, then the radius; with no key, neither is read.
      std::optional<double> s = z->Score(member);
      if (!s) return ctx.rb.Error(kNoMember);
      geo::Decode(static_cast<uint64_t>(*s), &shape.lon, &shape.lat);
    }
  }
  if ((flags & kByMember) && z == nullptr) {
    base += 2;
  } else if (!(flags & kSearch)) {
    if (!ParseScore(args[base], &shape.radius)) return ctx.rb.Error("ERR need numeric radius");
    if (shape.radius < 0) return ctx.rb.Error("ERR radius cannot be negative");
    shape.to_m = UnitToMeters(args[base + 1]);
    if (shape.to_m == 0) return ctx.rb.Error(kUnitError);
    have_shape = true;
    base += 2;
  }

  bool withdist = false, withhash = false, withcoord = false, any = false;
  int sort = 0;  // 0 none, 1 asc, -1 desc
  int64_t count = 0;
  bool storedist = false;
  std::string_view store;
  bool has_store = false;
  if (flags & kSearchStore) {
    store = args[1];
    has_store = true;
  }
  bool by_radius = false, by_box = false, from_lonlat = false;
  for (size_t i = base; i < args.size(); i++) {
    std::string_view a = args[i];
    const size_t rem = args.size() - i - 1;
    if (EqualsUpper(a, "WITHDIST")) {
      withdist = true;
    } else if (EqualsUpper(a, "WITHHASH")) {
      withhash = true;
    } else if (EqualsUpper(a, "WITHCOORD")) {
      withcoord = true;
    } else if (EqualsUpper(a, "ANY")) {
      any = true;
    } else if (EqualsUpper(a, "ASC")) {
      sort = 1;
    } else if (EqualsUpper(a, "DESC")) {
      sort = -1;
    } else if (EqualsUpper(a, "COUNT") && rem >= 1) {
      if (!ParseInt64(args[i + 1], &count)) return ctx.rb.Error(errors::kNotInteger);
      if (count <= 0) return ctx.rb.Error("ERR COUNT must be > 0");
      i++;
    } else if (EqualsUpper(a, "STORE") && rem >= 1 && !(flags & (kNoStore | kSearch))) {
      store = args[++i];
      has_store = true;
      storedist = false;
    } else if (EqualsUpper(a, "STOREDIST") && rem >= 1 && !(flags & (kNoStore | kSearch))) {
      store = args[++i];
      has_store = true;
      storedist = true;
    } else if (EqualsUpper(a, "STOREDIST") && (flags & kSearchStore)) {
      storedist = true;
    } else if (EqualsUpper(a, "FROMMEMBER") && rem >= 1 && (flags & kSearch)) {
      if (from_lonlat) return ctx.rb.Error(errors::kSyntax);
      member = args[++i];
      from_member = true;
    } else if (EqualsUpper(a, "FROMLONLAT") && rem >= 2 && (flags & kSearch)) {
      if (from_member) return ctx.rb.Error(errors::kSyntax);
      if (!ParseLonLat(ctx, args[i + 1], args[i + 2], &shape.lon, &shape.lat)) return;
      from_lonlat = true;
      have_center = true;
      i += 2;
    } else if (EqualsUpper(a, "BYRADIUS") && rem >= 2 && (flags & kSearch)) {
      if (by_box) return ctx.rb.Error(errors::kSyntax);
      if (!ParseScore(args[i + 1], &shape.radius)) {
        return ctx.rb.Error("ERR need numeric radius");
      }
      if (shape.radius < 0) return ctx.rb.Error("ERR radius cannot be negative");
      shape.to_m = UnitToMeters(args[i + 2]);
      if (shape.to_m == 0) return ctx.rb.Error(kUnitError);
      shape.box = false;
      by_radius = have_shape = true;
      i += 2;
    } else if (EqualsUpper(a, "BYBOX") && rem >= 3 && (flags & kSearch)) {
      if (by_radius) return ctx.rb.Error(errors::kSyntax);
      if (!ParseScore(args[i + 1], &shape.width)) return ctx.rb.Error("ERR need numeric width");
      if (!ParseScore(args[i + 2], &shape.height)) {
        return ctx.rb.Error("ERR need numeric height");
      }
      if (shape.width < 0 || shape.height < 0) {
        return ctx.rb.Error("ERR height or width cannot be negative");
      }
      shape.to_m = UnitToMeters(args[i + 3]);
      if (shape.to_m == 0) return ctx.rb.Error(kUnitError);
      shape.box = true;
      by_box = have_shape = true;
      i += 3;
    } else {
      return ctx.rb.Error(errors::kSyntax);
    }
  }
  if ((flags & kSearch) && !from_member && !from_lonlat) {
    return ctx.rb.Error("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " +
                        std::string(args[0]));
  }
  if ((flags & kSearch) && !have_shape) {
    return ctx.rb.Error("ERR exactly one of BYRADIUS and BYBOX can be specified for " +
                        std::string(args[0]));
  }
  if (any && count == 0) return ctx.rb.Error("ERR the ANY argument requires COUNT argument");
  if (has_store && (withdist || withhash || withcoord)) {
    return ctx.rb.Error(
        (flags & kSearchStore)
            ? "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
            : "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and "
              "WITHCOORD options");
  }
  // COUNT returns the nearest ones: sorted, unless ANY asks for the first found.
  if (count != 0 && sort == 0 && !any) sort = 1;

  auto store_result = [&](std::unique_ptr<ZSetObject> out) {
    OpResult<ZStoreResult> r = OpZStore(ctx.op(), store, std::move(out));
    if (!r.ok()) return ctx.ReplyError(r.status());
    if (r->changed) ctx.Dirty();
    ctx.rb.Integer(r->size);
  };
  if (z == nullptr) {
    if (has_store) return store_result(std::make_unique<ZSetObject>());
    return ctx.rb.ArrayHeader(0);
  }
  if (from_member && (flags & kSearch)) {
    std::optional<double> s = z->Score(member);
    if (!s) return ctx.rb.Error(kNoMember);
    geo::Decode(static_cast<uint64_t>(*s), &shape.lon, &shape.lat);
  }
  (void)have_center;

  std::vector<Hit> hits;
  geo::SearchCells sc = geo::CellsFor(shape);
  int last = -1;
  for (int c = 0; c < 9; c++) {
    const geo::Cell& cell = sc.cells[c];
    if (cell.none()) continue;
    // A neighbour equal to the one scanned before it (tiny steps wrap onto each other).
    if (last > 0 && cell.bits == sc.cells[last].bits && cell.step == sc.cells[last].step) {
      continue;
    }
    last = c;
    uint64_t lo, hi;
    geo::CellScores(cell, &lo, &hi);
    ZScoreRange r;
    r.min = static_cast<double>(lo);
    r.max = static_cast<double>(hi);
    r.maxex = true;
    const size_t first = z->CountBelowMin(r);
    const size_t end = z->CountUpToMax(r);
    if (end <= first) continue;
    bool full = false;
    z->Visit(first, end - first, false, [&](std::string_view m, double score) {
      if (full) return;
      Hit h;
      geo::Decode(static_cast<uint64_t>(score), &h.lon, &h.lat);
      if (!geo::InShape(shape, h.lon, h.lat, &h.dist_m)) return;
      h.member = m;
      h.score = score;
      hits.push_back(h);
      if (any && static_cast<int64_t>(hits.size()) >= count) full = true;
    });
    if (any && count > 0 && static_cast<int64_t>(hits.size()) >= count) break;
  }
  if (sort != 0) {
    std::stable_sort(hits.begin(), hits.end(), [sort](const Hit& a, const Hit& b) {
      return sort > 0 ? a.dist_m < b.dist_m : a.dist_m > b.dist_m;
    });
  }
  size_t n = hits.size();
  if (count > 0 && static_cast<size_t>(count) < n) n = static_cast<size_t>(count);

  if (has_store) {
    auto out = std::make_unique<ZSetObject>();
    if (n > EncodingLimits::zset_max_listpack_entries()) out->ConvertToSkiplist();
    for (size_t i = 0; i < n; i++) {
      out->Set(hits[i].member, storedist ? hits[i].dist_m / shape.to_m : hits[i].score);
    }
    return store_result(std::move(out));
  }
  const size_t extra = (withdist ? 1 : 0) + (withhash ? 1 : 0) + (withcoord ? 1 : 0);
  ctx.rb.ArrayHeader(n);
  for (size_t i = 0; i < n; i++) {
    const Hit& h = hits[i];
    if (extra > 0) ctx.rb.ArrayHeader(extra + 1);
    ctx.rb.Bulk(h.member);
    if (withdist) ReplyDistance(ctx, h.dist_m / shape.to_m);
    if (withhash) ctx.rb.Integer(static_cast<int64_t>(h.score));
    if (withcoord) {
      ctx.rb.ArrayHeader(2);
      ReplyCoord(ctx, h.lon);
      ReplyCoord(ctx, h.lat);
    }
  }
}

void CmdGeoRadius(CmdArgs args, CommandContext& ctx) { GeoSearch(args, ctx, 1, kRadius); }
void CmdGeoRadiusRo(CmdArgs args, CommandContext& ctx) {
  GeoSearch(args, ctx, 1, kRadius | kNoStore);
}
void CmdGeoRadiusByMember(CmdArgs args, CommandContext& ctx) { GeoSearch(args, ctx, 1, kByMember); }
void CmdGeoRadiusByMemberRo(CmdArgs args, CommandContext& ctx) {
  GeoSearch(args, ctx, 1, kByMember | kNoStore);
}
void CmdGeoSearch(CmdArgs args, CommandContext& ctx) { GeoSearch(args, ctx, 1, kSearch); }
void CmdGeoSearchStore(CmdArgs args, CommandContext& ctx) {
  GeoSearch(args, ctx, 2, kSearch | kSearchStore);
}

// GEORADIUS[BYMEMBER]'s keys: the source, and the key after each STORE / STOREDIST.
void GeoRadiusKeys(CmdArgs args, size_t first_option, std::vector<size_t>* out) {
  out->push_back(1);
  for (size_t i = first_option; i + 1 < args.size(); i++) {
    if (EqualsUpper(args[i], "STORE") || EqualsUpper(args[i], "STOREDIST")) {
      out->push_back(i + 1);
      i++;
    } else if (EqualsUpper(args[i], "COUNT")) {
      i++;
    }
  }
}
void GeoRadiusKeysFn(CmdArgs args, std::vector<size_t>* out) { GeoRadiusKeys(args, 6, out); }
void GeoRadiusByMemberKeysFn(CmdArgs args, std::vector<size_t>* out) {
  GeoRadiusKeys(args, 5, out);
}

}  // namespace

void RegisterGeoFamily(CommandRegistry& r) {
  using namespace cmdflags;
  // clang-format off
  r.Register({"geoadd", -5, kWrite | kDenyOom, 1, 1, 1, CmdGeoAdd, "geo",
              "Adds one or more members to a geospatial index. The key is created if it doesn't "
              "exist.", "3.2.0"});
  r.Register({"geopos", -2, kReadOnly, 1, 1, 1, CmdGeoPos, "geo",
              "Returns the longitude and latitude of members from a geospatial index.",
              "3.2.0"});
  r.Register({"geohash", -2, kReadOnly, 1, 1, 1, CmdGeoHash, "geo",
              "Returns members from a geospatial index as geohash strings.", "3.2.0"});
  r.Register({"geodist", -4, kReadOnly, 1, 1, 1, CmdGeoDist, "geo",
              "Returns the distance between two members of a geospatial index.", "3.2.0"});
  r.Register({"geosearch", -7, kReadOnly, 1, 1, 1, CmdGeoSearch, "geo",
              "Queries a geospatial index for members inside an area of a box or a circle.",
              "6.2.0"});
  r.Register({"geosearchstore", -8, kWrite | kDenyOom, 1, 2, 1, CmdGeoSearchStore, "geo",
              "Queries a geospatial index for members inside an area of a box or a circle, "
              "optionally stores the result.", "6.2.0"});
  r.Register({"georadius", -6, kWrite | kDenyOom, 1, 1, 1, CmdGeoRadius, "geo",
              "Queries a geospatial index for members within a distance from a coordinate, "
              "optionally stores the result.", "3.2.0", -1, GeoRadiusKeysFn});
  r.Register({"georadius_ro", -6, kReadOnly, 1, 1, 1, CmdGeoRadiusRo, "geo",
              "Returns members from a geospatial index that are within a distance from a "
              "coordinate.", "3.2.10"});
  r.Register({"georadiusbymember", -5, kWrite | kDenyOom, 1, 1, 1, CmdGeoRadiusByMember, "geo",
              "Queries a geospatial index for members within a distance from a member, "
              "optionally stores the result.", "3.2.0", -1,
              GeoRadiusByMemberKeysFn});
  r.Register({"georadiusbymember_ro", -5, kReadOnly, 1, 1, 1, CmdGeoRadiusByMemberRo, "geo",
              "Returns members from a geospatial index that are within a distance from a "
              "member.", "3.2.10"});
  // clang-format on
}

}  // namespace fdb
