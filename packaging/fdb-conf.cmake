# Writes the packaged fdb.conf: fdb-server's own documented config file (--print-config) with
# the values a system service needs set, every other parameter commented out at its default.
#
#   cmake -DFDB_SERVER=build/fdb-server -DOUT=packaging/fdb.conf -P packaging/fdb-conf.cmake
#
# The data and log directories are the ones fdb.service makes for the fdb user (StateDirectory,
# LogsDirectory); port is the default and bind is loopback (the default, Redis's `* -::*`, is
# every address behind protected mode), both written out because they are the first thing an
# administrator changes.
if(NOT FDB_SERVER OR NOT OUT)
  message(FATAL_ERROR "usage: cmake -DFDB_SERVER=<fdb-server> -DOUT=<file> -P fdb-conf.cmake")
endif()
execute_process(
  COMMAND ${FDB_SERVER} --bind 127.0.0.1 --port 6380 --dir /var/lib/fdb
          --logfile /var/log/fdb/fdb-server.log --print-config
  OUTPUT_FILE ${OUT}.tmp
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE ${OUT}.tmp)
  message(FATAL_ERROR "${FDB_SERVER} --print-config failed: ${rc}")
endif()
file(RENAME ${OUT}.tmp ${OUT})
