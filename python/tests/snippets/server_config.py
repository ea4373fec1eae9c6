from fdb_server import FDBConfig, create_server, FDBServer
config = FDBConfig(host="127.0.0.1", port=6380, max_connections=100, data_dir="./fdb_data",
                   file_extension=".fdb", cache_size=10000, flush_interval=5.0, max_workers=4,
                   compression=True)
server = create_server(config)     # and: await FDBServer(config).start()
