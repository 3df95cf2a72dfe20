"""drill: DR failover drill orchestrator for SSCC (NEEQ/BSE) access networks."""

__version__ = "0.1.0"
