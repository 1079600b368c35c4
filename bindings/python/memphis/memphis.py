"""The connection object: ``Memphis``."""

from __future__ import annotations

import atexit
import logging
import weakref
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from . import _native
from ._ops import Pending, executor, run_blocking, start
from .consumer import Consumer
from .exceptions import MemphisConnectError, MemphisError
from .producer import HeadersArg, Producer
from .station import Station
from .types import Retention, Storage

__all__ = ["Memphis"]

log = logging.getLogger("memphis")

_RETENTION = {
    Retention.MAX_MESSAGE_AGE_SECONDS: 0,
    Retention.MESSAGES: 1,
    Retention.BYTES: 2,
    Retention.ACK_BASED: 3,
}
_STORAGE = {Storage.DISK: 0, Storage.MEMORY: 1}
_SCHEMA_TYPES = ("json", "graphql", "protobuf", "avro")


# Every connection, so interpreter exit can stop consume loops first: a
# library thread must not call into an interpreter that is shutting down.
_connections: weakref.WeakSet[Memphis] = weakref.WeakSet()


@atexit.register
def _stop_consume_loops_at_exit() -> None:
    for conn in list(_connections):
        for consumer in list(conn._consumers):
            consumer._stop_for_close()
            try:
                _native.consumer_stop(consumer._handle)
            except Exception:
                pass


def _release_conn(handle: Any) -> None:
    try:
        executor().submit(_native.conn_destroy, handle)
    except RuntimeError:
        pass


def _enum_value(kind: type, value: Any, table: Dict[Any, int], what: str) -> int:
    try:
        return table[kind(value)]
    except ValueError:
        allowed = "/".join(m.value for m in kind)  # type: ignore[attr-defined]
        raise MemphisError(f"{what} can be one of the following {allowed}, got {value!r}") from None


class Memphis:
    """A connection to a Memphis broker.

    Create it, then ``await memphis.connect(...)``. Every documented default
    (port 6666, reconnect, timeouts, ...) comes from libmemphis' option
    objects: a parameter left out (``None``) is simply not set.
    """

    MAX_BATCH_SIZE = 5000

    def __init__(self) -> None:
        self._handle: Optional[Any] = None
        self._finalizer: Optional[weakref.finalize] = None
        self.is_connection_active = False
        self.username = ""
        self._producers: weakref.WeakSet[Producer] = weakref.WeakSet()
        self._consumers: weakref.WeakSet[Consumer] = weakref.WeakSet()
        self._producer_cache: Dict[str, Producer] = {}
        self._consumer_cache: Dict[str, Consumer] = {}
        _connections.add(self)

    # --- connection -------------------------------------------------------

    async def connect(
        self,
        host: str,
        username: str,
        account_id: Optional[int] = None,
        connection_token: str = "",
        password: str = "",
        port: Optional[int] = None,
        reconnect: Optional[bool] = None,
        max_reconnect: Optional[int] = None,
        reconnect_interval_ms: Optional[int] = None,
        timeout_ms: Optional[int] = None,
        cert_file: str = "",
        key_file: str = "",
        ca_file: str = "",
    ) -> None:
        """Connect to the broker.

        Exactly one of ``connection_token`` and ``password`` must be given.
        Defaults (from the library): account_id 1, port 6666, reconnect True,
        max_reconnect 10, reconnect_interval_ms 1500, timeout_ms 1500.
        TLS needs all three of ``cert_file``, ``key_file`` and ``ca_file``.
        Raises ``MemphisConnectError``.
        """
        if self._handle is not None:
            await self.close()
        values: Dict[str, Any] = {
            "host": host,
            "username": username,
            "account_id": account_id,
            "port": port,
            "reconnect": reconnect,
            "max_reconnect": max_reconnect,
            "reconnect_interval_ms": reconnect_interval_ms,
            "timeout_ms": timeout_ms,
        }
        for key, value in (("host", host), ("username", username)):
            if not isinstance(value, str):
                raise MemphisConnectError(f"{key} must be a string, got {type(value).__name__}")
        for key in ("account_id", "port", "max_reconnect", "reconnect_interval_ms", "timeout_ms"):
            value = values[key]
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise MemphisConnectError(f"{key} must be an integer, got {value!r}")
        # Only non-empty credentials and TLS paths are set: "" means "not given".
        for key, value in (
            ("password", password),
            ("connection_token", connection_token),
            ("cert_file", cert_file),
            ("key_file", key_file),
            ("ca_file", ca_file),
        ):
            if value:
                values[key] = value
        try:
            handle = await run_blocking(_native.connect, values)
        except MemphisError as exc:
            raise MemphisConnectError(exc.message, exc.code) from exc
        self._handle = handle
        self._finalizer = weakref.finalize(self, _release_conn, handle)
        self.username = username
        self.is_connection_active = True

    def is_connected(self) -> bool:
        """Whether the connection is up right now."""
        if self._handle is None:
            return False
        return _native.conn_is_connected(self._handle)

    async def close(self) -> None:
        """Close the connection; running consume loops end, handles are released."""
        handle, self._handle = self._handle, None
        self.is_connection_active = False
        for consumer in list(self._consumers):
            consumer._stop_for_close()
        self._producer_cache.clear()
        self._consumer_cache.clear()
        if handle is None:
            return
        if self._finalizer is not None:
            self._finalizer.detach()
        try:
            await run_blocking(_native.conn_close, handle)
        finally:
            await run_blocking(_native.conn_destroy, handle)

    async def __aenter__(self) -> Memphis:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def _conn(self) -> Any:
        if self._handle is None:
            raise MemphisConnectError("Connection is dead")
        return self._handle

    # --- stations and schemas ----------------------------------------------

    def station(
        self,
        name: str,
        retention_type: Optional[Union[Retention, str]] = None,
        retention_value: Optional[int] = None,
        storage_type: Optional[Union[Storage, str]] = None,
        replicas: Optional[int] = None,
        idempotency_window_ms: Optional[int] = None,
        schema_name: Optional[str] = None,
        send_poison_msg_to_dls: Optional[bool] = None,
        send_schema_failed_msg_to_dls: Optional[bool] = None,
        tiered_storage_enabled: Optional[bool] = None,
        partitions_number: Optional[int] = None,
        dls_station: Optional[str] = None,
        timeout_retries: int = 5,
    ) -> Station:
        """Create a station (an existing one is left as it is).

        Defaults (from the library): MAX_MESSAGE_AGE_SECONDS retention of
        604800, DISK storage, 1 replica, 120000 ms idempotency window, no
        schema, both DLS flags True, tiered storage off, 1 partition, no DLS
        station. Returns the ``Station`` at once; ``await`` it to wait for the
        creation and see errors (the README shows both forms).
        """
        del timeout_retries  # the library retries control requests itself
        conn = self._conn()
        if not isinstance(name, str):
            raise MemphisError(f"station name must be a string, got {type(name).__name__}")
        retention = (
            None if retention_type is None else _enum_value(Retention, retention_type, _RETENTION, "retention type")
        )
        storage = None if storage_type is None else _enum_value(Storage, storage_type, _STORAGE, "storage type")
        for key, value in (
            ("retention_value", retention_value),
            ("replicas", replicas),
            ("idempotency_window_ms", idempotency_window_ms),
            ("partitions_number", partitions_number),
        ):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise MemphisError(f"{key} must be an integer, got {value!r}")
        values = {
            "storage_type": storage,
            "replicas": replicas,
            "idempotency_window_ms": idempotency_window_ms,
            "schema_name": schema_name,
            "send_poison_msg_to_dls": send_poison_msg_to_dls,
            "send_schema_failed_msg_to_dls": send_schema_failed_msg_to_dls,
            "tiered_storage_enabled": tiered_storage_enabled,
            # memphis-py maps 0 to 1 ("not given"); so do we.
            "partitions_number": partitions_number or None,
            "dls_station": dls_station,
        }

        def work() -> Any:
            return _native.station_create(conn, name, retention, retention_value, values)

        return Station(self, name, start(f"creating station {name}", work))

    async def create_schema(
        self, schema_name: str, schema_type: str, schema_path: str, timeout_retries: int = 5
    ) -> None:
        """Create a schema from the file at ``schema_path``.

        ``schema_type`` is json, graphql, protobuf or avro. Creating an
        identical schema again is not an error.
        """
        del timeout_retries
        conn = self._conn()
        if schema_type not in _SCHEMA_TYPES:
            raise MemphisError(f"schema type not supported: {schema_type!r} (use one of {', '.join(_SCHEMA_TYPES)})")
        try:
            content = await run_blocking(Path(schema_path).read_text, "utf-8")
        except OSError as exc:
            raise MemphisError(f"cannot read schema file {schema_path}: {exc}") from exc
        await run_blocking(_native.schema_create, conn, schema_name, schema_type, content)

    async def enforce_schema(self, name: str, station_name: str, timeout_retries: int = 5) -> None:
        """Enforce schema ``name`` on ``station_name``."""
        del timeout_retries
        conn = self._conn()
        if not name or not station_name:
            raise MemphisError("name and station name can not be empty")
        await run_blocking(_native.schema_enforce, conn, name, station_name)

    async def attach_schema(self, name: str, station_name: str) -> None:
        """Deprecated: use ``enforce_schema``."""
        conn = self._conn()
        if not name or not station_name:
            raise MemphisError("name and station name can not be empty")
        await run_blocking(_native.schema_attach, conn, name, station_name)

    async def detach_schema(self, station_name: str, timeout_retries: int = 5) -> None:
        """Remove the schema from ``station_name``."""
        del timeout_retries
        conn = self._conn()
        if not station_name:
            raise MemphisError("station name is missing")
        await run_blocking(_native.schema_detach, conn, station_name)

    # --- producing ---------------------------------------------------------

    async def producer(
        self,
        station_name: Union[str, List[str]],
        producer_name: str,
        generate_random_suffix: bool = False,
        timeout_retries: int = 5,
    ) -> Producer:
        """Create a producer for one station (or a list of stations)."""
        del timeout_retries
        conn = self._conn()
        if isinstance(station_name, str):
            stations = [station_name]
        elif isinstance(station_name, list) and station_name and all(isinstance(s, str) for s in station_name):
            stations = list(station_name)
        else:
            raise MemphisError("station_name should be either string or list of strings")
        if not isinstance(producer_name, str):
            raise MemphisError(f"producer_name must be a string, got {type(producer_name).__name__}")
        if generate_random_suffix:
            import uuid

            log.warning("memphis: generate_random_suffix is deprecated")
            producer_name = f"{producer_name}_{uuid.uuid4().hex[:8]}"
        handle = await run_blocking(_native.producer_create, conn, stations, producer_name)
        producer = Producer(self, station_name, producer_name, handle)
        self._producers.add(producer)
        return producer

    async def produce(
        self,
        station_name: Union[str, List[str]],
        producer_name: str,
        message: Any,
        generate_random_suffix: bool = False,
        ack_wait_sec: Optional[float] = None,
        headers: HeadersArg = None,
        async_produce: bool = False,
        nonblocking: bool = False,
        msg_id: Optional[str] = None,
        producer_partition_key: Optional[str] = None,
        producer_partition_number: int = -1,
        limit_concurrent_tasks: Optional[int] = None,
        concurrent_task_limit: Optional[int] = None,
    ) -> None:
        """Produce without keeping a producer (one is created and cached per station and name)."""
        key = repr((station_name, producer_name.lower() if isinstance(producer_name, str) else producer_name))
        producer = self._producer_cache.get(key)
        if producer is None:
            producer = await self.producer(station_name, producer_name, generate_random_suffix)
            self._producer_cache[key] = producer
        await producer.produce(
            message,
            ack_wait_sec=ack_wait_sec,
            headers=headers,
            async_produce=async_produce,
            nonblocking=nonblocking,
            msg_id=msg_id,
            producer_partition_key=producer_partition_key,
            producer_partition_number=producer_partition_number,
            limit_concurrent_tasks=limit_concurrent_tasks,
            concurrent_task_limit=concurrent_task_limit,
        )

    def _forget_producer(self, producer: Producer) -> None:
        self._producers.discard(producer)
        for key, cached in list(self._producer_cache.items()):
            if cached is producer:
                del self._producer_cache[key]

    # --- consuming ---------------------------------------------------------

    async def consumer(
        self,
        station_name: str,
        consumer_name: str,
        consumer_group: str = "",
        pull_interval_ms: Optional[int] = None,
        batch_size: Optional[int] = None,
        batch_max_time_to_wait_ms: Optional[int] = None,
        max_ack_time_ms: Optional[int] = None,
        max_msg_deliveries: Optional[int] = None,
        generate_random_suffix: bool = False,
        start_consume_from_sequence: Optional[int] = None,
        last_messages: Optional[int] = None,
        timeout_retries: int = 5,
    ) -> Consumer:
        """Create a consumer (and its group, default: the consumer's name).

        Defaults (from the library): pull_interval_ms 1000, batch_size 10,
        batch_max_time_to_wait_ms 5000, max_ack_time_ms 30000,
        max_msg_deliveries 10, start_consume_from_sequence 1,
        last_messages -1 (all).
        """
        del timeout_retries
        conn = self._conn()
        if not isinstance(station_name, str) or not isinstance(consumer_name, str):
            raise MemphisError("station_name and consumer_name must be strings")
        if generate_random_suffix:
            import uuid

            log.warning("memphis: generate_random_suffix is deprecated")
            consumer_name = f"{consumer_name}_{uuid.uuid4().hex[:8]}"
        values = _consumer_values(
            consumer_group,
            pull_interval_ms,
            batch_size,
            batch_max_time_to_wait_ms,
            max_ack_time_ms,
            max_msg_deliveries,
            start_consume_from_sequence,
            last_messages,
        )

        def work() -> Any:
            opts = _native.ConsumerOpts(station_name, consumer_name, values)
            try:
                return _native.consumer_create(conn, opts)
            finally:
                opts.close()

        handle = await run_blocking(work)
        consumer = Consumer(self, station_name, consumer_name, consumer_group, handle)
        self._consumers.add(consumer)
        return consumer

    async def fetch_messages(
        self,
        station_name: str,
        consumer_name: str,
        consumer_group: str = "",
        batch_size: Optional[int] = None,
        batch_max_time_to_wait_ms: Optional[int] = None,
        max_ack_time_ms: Optional[int] = None,
        max_msg_deliveries: Optional[int] = None,
        generate_random_suffix: bool = False,
        start_consume_from_sequence: Optional[int] = None,
        last_messages: Optional[int] = None,
        consumer_partition_key: Optional[str] = None,
        consumer_partition_number: int = -1,
        prefetch: bool = False,
    ) -> List[Any]:
        """Fetch one batch without keeping a consumer.

        Like memphis-py, the consumer is created on the first call and
        reused by later calls with the same station and name, so the group
        keeps its position.
        """
        key = repr((station_name, consumer_name.lower() if isinstance(consumer_name, str) else consumer_name))
        consumer = self._consumer_cache.get(key)
        if consumer is None:
            consumer = await self.consumer(
                station_name,
                consumer_name,
                consumer_group=consumer_group,
                batch_size=batch_size,
                batch_max_time_to_wait_ms=batch_max_time_to_wait_ms,
                max_ack_time_ms=max_ack_time_ms,
                max_msg_deliveries=max_msg_deliveries,
                generate_random_suffix=generate_random_suffix,
                start_consume_from_sequence=start_consume_from_sequence,
                last_messages=last_messages,
            )
            self._consumer_cache[key] = consumer
        return await consumer.fetch(
            batch_size,
            consumer_partition_key=consumer_partition_key,
            consumer_partition_number=consumer_partition_number,
            prefetch=prefetch,
        )

    def _forget_consumer(self, consumer: Consumer) -> None:
        self._consumers.discard(consumer)
        for key, cached in list(self._consumer_cache.items()):
            if cached is consumer:
                del self._consumer_cache[key]

    def __repr__(self) -> str:
        return f"<memphis.Memphis {'connected' if self._handle is not None else 'closed'}>"


def _consumer_values(
    consumer_group: str,
    pull_interval_ms: Optional[int],
    batch_size: Optional[int],
    batch_max_time_to_wait_ms: Optional[int],
    max_ack_time_ms: Optional[int],
    max_msg_deliveries: Optional[int],
    start_consume_from_sequence: Optional[int],
    last_messages: Optional[int],
) -> Dict[str, Any]:
    values: Dict[str, Any] = {
        "consumer_group": consumer_group or None,
        "pull_interval_ms": pull_interval_ms,
        "batch_size": batch_size,
        "batch_max_time_to_wait_ms": batch_max_time_to_wait_ms,
        "max_ack_time_ms": max_ack_time_ms,
        "max_msg_deliveries": max_msg_deliveries,
        "start_consume_from_sequence": start_consume_from_sequence,
        "last_messages": last_messages,
    }
    for key, value in values.items():
        if key != "consumer_group" and value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise MemphisError(f"{key} must be an integer, got {value!r}")
    if batch_size is not None and (batch_size < 1 or batch_size > Memphis.MAX_BATCH_SIZE):
        raise MemphisError(f"Batch size can not be greater than {Memphis.MAX_BATCH_SIZE} or less than 1")
    if start_consume_from_sequence is not None and start_consume_from_sequence <= 0:
        raise MemphisError("start_consume_from_sequence has to be a positive number")
    if last_messages is not None and last_messages < -1:
        raise MemphisError("min value for last_messages is -1")
    if (start_consume_from_sequence or 1) > 1 and last_messages is not None and last_messages > -1:
        raise MemphisError("Consumer creation options can't contain both start_consume_from_sequence and last_messages")
    return values


_ = Pending  # re-exported for type hints in user code
