#include "http/civetweb_tls.h"

#include <civetweb.h>
#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "base/logging.h"
#include "http/embedded_files.h"

namespace fdb {

namespace {

// Opens the library `name` of FindTlsShim from an anonymous memory file, whose descriptor is
// added to `fds`. The caller closes those only after every library is open: the loader knows an
// object by its path too, and a second /proc/self/fd/N of a reused N would be taken for the
// first. The handle is kept for the process's life: civetweb holds its own (by SONAME).
Status LoadShim(const char* name, std::vector<int>* fds) {
  const EmbeddedFile* file = FindTlsShim(std::string("/") + name);
  if (file == nullptr) return Status::NotFound(std::string("no built-in ") + name);
  const int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return Status::IOError(std::string("memfd_create: ") + strerror(errno));
  fds->push_back(fd);
  size_t done = 0;
  while (done < file->size) {
    const ssize_t n = write(fd, file->data + done, file->size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::IOError(std::string("writing ") + name + ": " + strerror(errno));
    done += static_cast<size_t>(n);
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL) == nullptr) {
    const char* why = dlerror();
    return Status::IOError(std::string("loading ") + name + ": " + (why ? why : "dlopen failed"));
  }
  return Status::OK();
}

Status Load() {
  std::vector<int> fds;
  Status s;
  for (const char* name : {"fdb_libcrypto_shim.so", "fdb_libssl_shim.so"}) {
    s = LoadShim(name, &fds);
    if (!s.ok()) break;
  }
  for (int fd : fds) close(fd);  // the mappings the loader made stay
  if (!s.ok()) return s;
  if ((mg_init_library(MG_FEATURES_TLS) & MG_FEATURES_TLS) == 0) {
    return Status::IOError("civetweb could not start TLS");
  }
  FDB_LOG_VERBOSE("http: civetweb's TLS started");
  return Status::OK();
}

}  // namespace

Status LoadCivetwebTls() {
  static std::once_flag once;
  static Status result;
  std::call_once(once, [] { result = Load(); });
  return result;
}

}  // namespace fdb
