"""The documented Memphis Python API on libmemphis.

from memphis import Memphis, Headers
from memphis.types import Retention, Storage
"""

import logging

from .consumer import Consumer
from .delivery import Delivery
from .exceptions import (
    MemphisConnectError,
    MemphisError,
    MemphisHeaderError,
    MemphisInvalidArgumentError,
    MemphisSchemaError,
)
from .headers import Headers
from .memphis import Memphis
from .message import Message
from .producer import Producer
from .station import Station

__all__ = [
    "Consumer",
    "Delivery",
    "Headers",
    "Memphis",
    "MemphisConnectError",
    "MemphisError",
    "MemphisHeaderError",
    "MemphisInvalidArgumentError",
    "MemphisSchemaError",
    "Message",
    "Producer",
    "Station",
]

__version__ = "0.1.0"

# The library's events go to the logger "memphis"; as a library should, it
# prints nothing unless the application configures logging.
logging.getLogger("memphis").addHandler(logging.NullHandler())
