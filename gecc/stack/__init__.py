"""The local stack: the SMTP sink, the PMO receiver, PostgreSQL, Kafka, S3Proxy (object
storage), the five services and, where it is installed, Prometheus, as detached processes."""

from gecc.stack.config import StackConfig
from gecc.stack.errors import StackError
from gecc.stack.stack import (
    ComponentStatus,
    Health,
    down,
    start_infrastructure,
    start_object_storage,
    start_services,
    status,
    stop_services,
    up,
)

__all__ = [
    "ComponentStatus",
    "Health",
    "StackConfig",
    "StackError",
    "down",
    "start_infrastructure",
    "start_object_storage",
    "start_services",
    "status",
    "stop_services",
    "up",
]
