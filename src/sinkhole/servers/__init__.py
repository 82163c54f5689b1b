"""The sinkhole's listeners (asyncio, on uvloop) and the worker processes that run them."""
