from fdb_client import FDBSyncClient
with FDBSyncClient() as db:
    db.set("product:1", {"name": "Laptop", "price": 999.99})
    product = db.get("product:1")
