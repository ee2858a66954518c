"""Everything a queue namespace holds in Redis, as text to search for what must not be there."""

from __future__ import annotations

from redis.asyncio import Redis


async def redis_text(redis: Redis, *, prefix: str) -> str:
    """Every key and value of the queues under `prefix` and of arq's job, result and retry keys
    (which carry the queue name)."""
    found: list[str] = []
    for pattern in (f"{prefix}:*", f"arq:*{prefix}:*"):
        async for key in redis.scan_iter(match=pattern):
            kind = (await redis.type(key)).decode()
            found.append(key.decode(errors="replace"))
            if kind == "string":
                value = await redis.get(key)
                found.append((value or b"").decode("latin-1"))
            elif kind == "zset":
                found += [m.decode("latin-1") for m in await redis.zrange(key, 0, -1)]
            elif kind == "list":
                found += [m.decode("latin-1") for m in await redis.lrange(key, 0, -1)]
            elif kind == "hash":
                found += [v.decode("latin-1") for v in (await redis.hgetall(key)).values()]
    return "\n".join(found)
