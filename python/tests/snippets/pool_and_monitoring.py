from fdb_client import FDBClient, fdb_client

async def pool_and_monitoring():
    client = FDBClient(host="localhost", port=6380, timeout=5.0)
    await client.connect()
    await client.set("key", "value")
    async with fdb_client() as db:
        await db.set("analytics:page_views", await db.get("analytics:page_views", 0) + 1)
        info = await db.info()
        print(f"Cache entries: {info.get('cache_entries', 0)}", await db.dbsize())
