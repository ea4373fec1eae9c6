// The dashboard's page, script and style sheet, built into the binary: CMake turns each file of
// src/http/dashboard/ into a byte array of the generated dashboard_assets.cc
// (src/http/dashboard/embed.cmake), so the page works with no file beside the binary and no
// internet.
#pragma once

#include <cstddef>
#include <string_view>

namespace fdb {

struct DashboardAsset {
  const char* path;  // the URL path: "/" for index.html, else "/" + the file name
  const char* content_type;
  const unsigned char* data;
  size_t size;
};

// nullptr when no asset has that path.
const DashboardAsset* FindDashboardAsset(std::string_view path);

}  // namespace fdb
