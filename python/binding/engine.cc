// fdb._engine: the FDB engine (fdb::DB, include/fdb/db.h) bound for Python with nanobind.
//
// Model. The binding is deliberately thin: Engine owns one fdb::DB and offers execute(), which
// runs any server command through the server's own dispatcher, plus get/set fast paths (the
// two calls a cache makes most) that skip building a Python list. Everything with a Python
// shape -- value encoding, method names, FDB's exception classes -- lives in
// python/src/fdb/engine.py, where it is shared with the clients.
//
// The GIL. Every engine call but get() runs with the GIL released (nb::gil_scoped_release), so
// other Python threads -- and the asyncio loop whose executor threads call in -- keep running
// while one thread waits for a shard lock or for its write to reach the log (get() keeps it:
// see there). Arguments are turned
// into std::string/std::string_view while the GIL is held; a view into a bytes or str object
// stays valid while the GIL is released because the caller's reference keeps the object
// alive and both types are immutable.
//
// Lifetime. close() destroys the DB (a checkpoint, then the LOCK file is released), waiting
// for calls in flight: calls hold mu_ shared, close() holds it exclusively. A call after
// close() raises EngineError. The locks are taken only while the GIL is released, so a thread
// waiting for mu_ never holds the GIL that the holder might need.
//
// Errors. A failed Status raises EngineError (BusyError for Status::kBusy: the data directory
// is held by another process or Engine); an error reply of a command raises ReplyError whose
// text is Redis's, to the letter. Inside an array (EXEC) an error reply is returned as a
// ReplyError instance in its slot rather than raised, as redis-py does, so the other results
// are not lost.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fdb/db.h"

namespace nb = nanobind;

namespace {

struct EngineError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct BusyError : EngineError {
  using EngineError::EngineError;
};
struct ReplyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The Python class of ReplyError, for error replies nested in arrays. Owned by the module
// for the life of the interpreter (never released: it must outlive every Engine).
PyObject* g_reply_error_type = nullptr;

[[noreturn]] void Raise(const fdb::Status& s) {
  if (s.code() == fdb::Status::kBusy) throw BusyError(s.message());
  throw EngineError(s.ToString());
}

// A view of a bytes or str argument (str as UTF-8). REQUIRES: the GIL is held; the view lives
// as long as `o`.
std::string_view View(PyObject* o) {
  if (PyBytes_Check(o)) return {PyBytes_AS_STRING(o), static_cast<size_t>(PyBytes_GET_SIZE(o))};
  if (PyUnicode_Check(o)) {
    Py_ssize_t n;
    const char* p = PyUnicode_AsUTF8AndSize(o, &n);
    if (p == nullptr) throw nb::python_error();
    return {p, static_cast<size_t>(n)};
  }
  if (PyByteArray_Check(o)) {
    return {PyByteArray_AS_STRING(o), static_cast<size_t>(PyByteArray_GET_SIZE(o))};
  }
  throw nb::type_error("fdb: command arguments must be bytes or str (encode other values first)");
}

std::string Arg(PyObject* o) {
  if (PyLong_Check(o) || PyFloat_Check(o)) {
    // Numbers as their text, the way redis-py sends them.
    nb::str s = nb::str(nb::handle(o));
    return std::string(s.c_str());
  }
  return std::string(View(o));
}

// Owns a new reference from the C API, raising the pending Python error if it is null.
nb::object Check(PyObject* o) {
  if (o == nullptr) throw nb::python_error();
  return nb::steal(o);
}

// The key of the get/set fast paths: exactly bytes, or exactly str as UTF-8, where lone
// surrogates (keys() returns non-UTF-8 keys with surrogate escapes) map back to the original
// bytes, as fdb.client._k does. Any other object -- subclasses included, whose str() may
// differ -- raises TypeError, and engine.py converts it with _k and calls again. REQUIRES: the
// GIL is held while a Key is made and destroyed; the view lives as long as the Key and `o`.
class Key {
 public:
  explicit Key(PyObject* o) {
    if (PyBytes_CheckExact(o)) {
      view_ = {PyBytes_AS_STRING(o), static_cast<size_t>(PyBytes_GET_SIZE(o))};
      return;
    }
    if (!PyUnicode_CheckExact(o)) throw nb::type_error("fdb: a key is str or bytes");
    Py_ssize_t n;
    const char* p = PyUnicode_AsUTF8AndSize(o, &n);
    if (p != nullptr) {
      view_ = {p, static_cast<size_t>(n)};
      return;
    }
    if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) throw nb::python_error();
    PyErr_Clear();
    owner_ = Check(PyUnicode_AsEncodedString(o, "utf-8", "surrogateescape"));
    view_ = {PyBytes_AS_STRING(owner_.ptr()), static_cast<size_t>(PyBytes_GET_SIZE(owner_.ptr()))};
  }

  std::string_view view() const { return view_; }

 private:
  nb::object owner_;  // the UTF-8 bytes of a str with surrogates
  std::string_view view_;
};

// A ReplyError instance (not raised) for an error reply inside an array.
nb::object ReplyErrorObject(const std::string& text) {
  nb::object s = Check(
      PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "surrogateescape"));
  return Check(PyObject_CallOneArg(g_reply_error_type, s.ptr()));
}

// Converts a parsed reply into Python objects. REQUIRES: the GIL is held.
nb::object ToPython(fdb::Reply& r, bool top) {
  using T = fdb::Reply::Type;
  switch (r.type) {
    case T::kBulk:
      return Check(PyBytes_FromStringAndSize(r.str.data(), static_cast<Py_ssize_t>(r.str.size())));
    case T::kInteger:
      return Check(PyLong_FromLongLong(r.integer));
    case T::kStatus:
      return Check(PyUnicode_DecodeUTF8(r.str.data(), static_cast<Py_ssize_t>(r.str.size()),
                                        "surrogateescape"));
    case T::kNull:
      return nb::none();
    case T::kArray: {
      nb::object list = nb::steal(PyList_New(static_cast<Py_ssize_t>(r.elements.size())));
      if (!list.is_valid()) throw nb::python_error();
      for (size_t i = 0; i < r.elements.size(); i++) {
        nb::object e = ToPython(r.elements[i], false);
        PyList_SET_ITEM(list.ptr(), static_cast<Py_ssize_t>(i), e.release().ptr());
      }
      return list;
    }
    case T::kError:
      if (top) throw ReplyError(r.str);
      return ReplyErrorObject(r.str);
  }
  throw EngineError("fdb: unknown reply type");
}

class Engine {
 public:
  Engine(const std::string& dir, const std::string& fsync, uint64_t maxmemory, uint64_t cache_size,
         bool compression, bool persistence)
      : dir_(dir) {
    fdb::Options o;
    o.dir = dir;
    o.fsync = fsync;
    o.maxmemory = maxmemory;
    o.cache_size = cache_size;
    o.compression = compression;
    o.persistence = persistence;
    fdb::Result<std::unique_ptr<fdb::DB>> db = OpenReleased(o);
    if (!db.ok()) Raise(db.status());
    db_ = std::move(*db);
  }

  // Destroying an Engine that was not closed closes it (with the GIL held: a destructor may
  // run during interpreter shutdown, when releasing the GIL is not allowed).
  ~Engine() {
    std::unique_lock<std::shared_mutex> l(mu_);
    db_.reset();
  }

  nb::object Execute(nb::handle args) {
    std::vector<std::string> argv;
    {
      nb::object seq = nb::steal(PySequence_Fast(args.ptr(), "fdb: execute() takes a list"));
      if (!seq.is_valid()) throw nb::python_error();
      Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.ptr());
      PyObject** items = PySequence_Fast_ITEMS(seq.ptr());
      argv.reserve(static_cast<size_t>(n));
      for (Py_ssize_t i = 0; i < n; i++) argv.push_back(Arg(items[i]));
    }
    if (argv.empty()) throw nb::value_error("fdb: execute() needs a command name");
    std::optional<fdb::Result<fdb::Reply>> r;
    {
      nb::gil_scoped_release release;
      std::shared_lock<std::shared_mutex> l(mu_);
      r.emplace(Db()->Execute(argv));
    }
    if (!r->ok()) Raise(r->status());
    return ToPython(**r, true);
  }

  // GET: the value as bytes, or None. The bytes object is made from the value in place, while
  // its key is locked (DB::Read), so the value is copied once. The GIL is kept: a read of a
  // value in RAM takes well under a microsecond, less than releasing and taking the GIL back,
  // and it cannot deadlock, since no thread that holds a shard lock waits for the GIL (every
  // other call releases the GIL before it takes engine locks, and a Read callback runs only
  // in a thread that holds the GIL). The cost: a value read back from disk (cache_size below
  // the data) holds other Python threads for that read.
  nb::object Get(nb::handle key) {
    Key key_arg(key.ptr());
    std::string_view k = key_arg.view();
    PyObject* out = nullptr;
    fdb::Result<bool> r = [&] {
      std::shared_lock<std::shared_mutex> l(mu_);
      return Db()->Read(k, [&](std::string_view v) {
        out = PyBytes_FromStringAndSize(v.data(), static_cast<Py_ssize_t>(v.size()));
      });
    }();
    if (!r.ok()) RaiseTyped(r.status());
    if (!*r) return nb::none();
    return Check(out);
  }

  // SET key value [PX ttl_ms].
  void Set(nb::handle key, nb::handle value, std::optional<int64_t> ttl_ms) {
    Key key_arg(key.ptr());
    std::string_view k = key_arg.view();
    std::string_view v = View(value.ptr());
    fdb::Status s;
    {
      nb::gil_scoped_release release;
      std::shared_lock<std::shared_mutex> l(mu_);
      s = Db()->Set(k, v, ttl_ms);
    }
    if (!s.ok()) RaiseTyped(s);
  }

  void Close() {
    nb::gil_scoped_release release;
    std::unique_lock<std::shared_mutex> l(mu_);
    db_.reset();
  }

  bool closed() {
    nb::gil_scoped_release release;
    std::shared_lock<std::shared_mutex> l(mu_);
    return db_ == nullptr;
  }

  const std::string& dir() const { return dir_; }

 private:
  static fdb::Result<std::unique_ptr<fdb::DB>> OpenReleased(const fdb::Options& o) {
    nb::gil_scoped_release release;  // recovery may read a large log
    return fdb::DB::Open(o);
  }

  // REQUIRES: mu_ is held (shared or exclusive).
  fdb::DB* Db() {
    if (db_ == nullptr) throw EngineError("fdb: the engine over '" + dir_ + "' is closed");
    return db_.get();
  }

  // The typed methods of fdb::DB turn an error reply into kInvalidArgument with Redis's text.
  [[noreturn]] static void RaiseTyped(const fdb::Status& s) {
    if (s.code() == fdb::Status::kInvalidArgument) throw ReplyError(s.message());
    Raise(s);
  }

  std::shared_mutex mu_;
  std::unique_ptr<fdb::DB> db_;  // guarded by mu_; null once closed
  const std::string dir_;
};

}  // namespace

NB_MODULE(_engine, m) {
  m.doc() = "The FDB engine, embedded (include/fdb/db.h). Use fdb_server.create_engine().";

  nb::object error = nb::exception<EngineError>(m, "EngineError", PyExc_RuntimeError);
  nb::exception<BusyError>(m, "BusyError", error);
  nb::object reply_error = nb::exception<ReplyError>(m, "ReplyError", PyExc_RuntimeError);
  g_reply_error_type = reply_error.inc_ref().ptr();

  nb::class_<Engine>(m, "Engine",
                     "One open FDB data directory. Thread-safe; every call releases the GIL.")
      .def(nb::init<const std::string&, const std::string&, uint64_t, uint64_t, bool, bool>(),
           nb::arg("dir"), nb::arg("fsync") = "everysec", nb::arg("maxmemory") = 0,
           nb::arg("cache_size") = 0, nb::arg("compression") = false, nb::arg("persistence") = true,
           "Opens (creating if needed) the data directory and recovers its data. Raises "
           "BusyError when another process or Engine holds the directory.")
      .def("execute", &Engine::Execute, nb::arg("args"),
           "Runs one command (a list of bytes/str; args[0] is its name) and returns its reply: "
           "bulk -> bytes, integer -> int, status -> str, array -> list, null -> None; an "
           "error reply raises ReplyError.")
      .def("get", &Engine::Get, nb::arg("key"),
           "GET: the value as bytes, or None. The key is str or bytes (exactly: TypeError "
           "otherwise).")
      .def("set", &Engine::Set, nb::arg("key"), nb::arg("value"), nb::arg("ttl_ms") = nb::none(),
           "SET key value [PX ttl_ms]. The key is str or bytes (exactly: TypeError otherwise).")
      .def("close", &Engine::Close,
           "Writes a checkpoint, closes the log and releases the LOCK. Idempotent.")
      .def_prop_ro("closed", &Engine::closed)
      .def_prop_ro("dir", &Engine::dir);
}
