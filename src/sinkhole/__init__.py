"""sinkhole: a defensive botnet takedown and sinkhole toolkit."""

__version__ = "0.1.0"
