// A StorageEngine over a temporary directory, for the engine's tests: each Open makes a fresh
// Keyspace and opens the engine on the directory into it (recovery), as the server does at
// start. Fixtures derive from it and set opts_ in their constructors.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "engine/keyspace.h"
#include "engine/storage_engine.h"
#include "storage/storage_test_util.h"

namespace fdb {
namespace testing {

class StorageEngineFixture : public ::testing::Test {
 protected:
  StorageEngineFixture() {
    opts_.dir = dir_.path();
    opts_.fsync = storage::FsyncPolicy::kNo;  // durability is not under test unless said
  }

  // Opens the engine on the directory into a new, empty Keyspace.
  void Open() {
    ks_ = std::make_unique<Keyspace>();
    auto r = StorageEngine::Open(opts_, ks_.get());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    engine_ = std::move(r.value());
  }
  // Closes the engine cleanly (the log flushed) and drops the keyspace.
  void Close() {
    if (engine_) {
      ASSERT_TRUE(engine_->Close().ok());
    }
    engine_.reset();
    ks_.reset();
  }
  void Reopen() {
    ASSERT_NO_FATAL_FAILURE(Close());
    ASSERT_NO_FATAL_FAILURE(Open());
  }

  storage::testing::TempDir dir_;
  StorageOptions opts_;
  // Declared before engine_: the engine is destroyed first, as it is the keyspace's sink.
  std::unique_ptr<Keyspace> ks_;
  std::unique_ptr<StorageEngine> engine_;
};

}  // namespace testing
}  // namespace fdb
