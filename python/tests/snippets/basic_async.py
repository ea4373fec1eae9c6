import asyncio
from fdb_client import fdb_client

async def main():
    async with fdb_client() as db:
        await db.set("user:1", {"name": "Alice", "age": 30})
        await db.set("counter", 42)
        user = await db.get("user:1")          # -> {'name': 'Alice', 'age': 30}
        counter = await db.get("counter")      # -> 42
asyncio.run(main())
