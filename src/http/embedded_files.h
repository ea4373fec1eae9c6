// Files built into the binary, so that fdb-server needs no file beside it: CMake turns each
// file into a byte array of a generated .cc (src/http/embed.cmake, run from CMakeLists.txt).
#pragma once

#include <cstddef>
#include <string_view>

namespace fdb {

struct EmbeddedFile {
  const char* path;  // "/" + the file name; "/" for an index.html
  const char* content_type;
  const unsigned char* data;
  size_t size;
};

// The dashboard's page, script and style sheet (src/http/dashboard/), served as they are, so
// the page works with no internet. nullptr when no asset has that URL path.
const EmbeddedFile* FindDashboardAsset(std::string_view path);

// The two small libraries civetweb's TLS needs on Debian 12 (src/http/tls_shim/,
// http/civetweb_tls.h): "/libssl.so" and "/libcrypto.so". nullptr for another name.
const EmbeddedFile* FindTlsShim(std::string_view path);

}  // namespace fdb
