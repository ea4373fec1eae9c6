import asyncio
from fdb_server import create_engine, FDBConfig

async def main():
    config = FDBConfig(data_dir="./my_app_db")
    db = create_engine(config)
    await db.start()
    try:
        await db.set("config:version", "1.0.0")
        version = await db.get("config:version")
    finally:
        await db.stop()
asyncio.run(main())
