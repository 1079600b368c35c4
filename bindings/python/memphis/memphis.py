"""The connection object: ``Memphis``."""

from __future__ import annotations

import logging
import weakref
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from . import _capi, _logging, _native
from ._ops import Pending, executor, run_blocking, start
from .consumer import Consumer, _partition
from .delivery import Delivery
from .exceptions import MemphisConnectError, MemphisError, MemphisInvalidArgumentError
from .producer import HeadersArg, Producer
from .station import Station
from .types import Retention, Storage

__all__ = ["Memphis"]

log = logging.getLogger("memphis")

# memphis_retention_t / memphis_storage_t values by wire name ("messages").
_RETENTION = {k[len("RETENTION_") :].lower(): v for k, v in vars(_capi).items() if k.startswith("RETENTION_")}
_STORAGE = {k[len("STORAGE_") :].lower(): v for k, v in vars(_capi).items() if k.startswith("STORAGE_")}


# The documented memphis-py keywords whose library option has another name.
# Every other library option is accepted under its own name (**options).
_CONNECT_ALIASES = {"cert_file": "tls_cert_file", "key_file": "tls_key_file", "ca_file": "tls_ca_file"}
_CONSUMER_ALIASES = {"consumer_group": "group", "batch_max_time_to_wait_ms": "batch_max_wait_ms"}


def _connect(prepared: _native.Prepared) -> Any:
    # On a worker thread: moving the log callback may wait for a running one.
    _logging.sync()
    return _native.connect(prepared)


def _release_conn(handle: Any) -> None:
    try:
        executor().submit(_native.conn_destroy, handle)
    except RuntimeError:
        pass


def _enum_value(kind: type, value: Any, table: Dict[str, int], what: str) -> int:
    try:
        return table[kind(value).value]
    except ValueError:
        allowed = "/".join(m.value for m in kind)  # type: ignore[attr-defined]
        raise MemphisInvalidArgumentError(f"{what} can be one of the following {allowed}, got {value!r}") from None


def _names(value: Any, param: str) -> List[bytes]:
    """A station name or a non-empty list of them, as C strings."""
    if isinstance(value, list) and value:
        return [_native.text(v, param) for v in value]
    if isinstance(value, str):
        return [_native.text(value, param)]
    raise MemphisInvalidArgumentError(f"{param} should be either string or list of strings, got {value!r}")


class Memphis:
    """A connection to a Memphis broker.

    Create it, then ``await memphis.connect(...)``. Every documented default
    (port 6666, reconnect, timeouts, ...) comes from libmemphis' option
    objects: a parameter left out (``None``) is simply not set. Library
    options beyond memphis-py's parameters are accepted by their library
    names as extra keywords (``**options``), e.g. ``producer(...,
    max_in_flight=100)``; the values are checked by the library.
    """

    def __init__(self) -> None:
        self._handle: Optional[Any] = None
        self._finalizer: Optional[weakref.finalize] = None
        self.is_connection_active = False
        self.username = ""
        self._producers: weakref.WeakSet[Producer] = weakref.WeakSet()
        self._consumers: weakref.WeakSet[Consumer] = weakref.WeakSet()
        self._producer_cache: Dict[str, Producer] = {}
        self._consumer_cache: Dict[str, Consumer] = {}

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
        **options: Any,
    ) -> None:
        """Connect to the broker.

        Exactly one of ``connection_token`` and ``password`` must be given.
        Defaults (from the library): account_id 1, port 6666, reconnect True,
        max_reconnect 10, reconnect_interval_ms 1500, timeout_ms 1500.
        TLS needs all three of ``cert_file``, ``key_file`` and ``ca_file``.
        Raises ``MemphisConnectError`` (``MemphisInvalidArgumentError`` for
        an argument of the wrong type).
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
            **options,
        }
        # Credentials and TLS paths: "" means "not given", as in memphis-py.
        for key, value in (
            ("password", password),
            ("connection_token", connection_token),
            ("cert_file", cert_file),
            ("key_file", key_file),
            ("ca_file", ca_file),
        ):
            if value != "":
                values[key] = value
        prepared = _native.prepare_options("conn", values, _CONNECT_ALIASES)
        try:
            handle = await run_blocking(_connect, prepared)
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

    def stats(self) -> Dict[str, Any]:
        """A snapshot of the connection's statistics, with every live
        producer and consumer: the library's statistics document
        (docs/statistics.md) as a dict. Never waits for the broker."""
        return _native.stats("conn", self._conn())

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
        **options: Any,
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
        c_name = _native.text(name, "name")
        retention = (
            None if retention_type is None else _enum_value(Retention, retention_type, _RETENTION, "retention type")
        )
        storage = None if storage_type is None else _enum_value(Storage, storage_type, _STORAGE, "storage type")
        value = None if retention_value is None else _native.integer(retention_value, "retention_value", "int64")
        prepared = _native.prepare_options(
            "station",
            {
                "replicas": replicas,
                "idempotency_window_ms": idempotency_window_ms,
                "schema_name": schema_name,
                "send_poison_msg_to_dls": send_poison_msg_to_dls,
                "send_schema_failed_msg_to_dls": send_schema_failed_msg_to_dls,
                "tiered_storage_enabled": tiered_storage_enabled,
                # memphis-py maps 0 to 1 ("not given"); so do we.
                "partitions_number": partitions_number or None,
                "dls_station": dls_station,
                **options,
            },
            {},
        )

        def work() -> Any:
            return _native.station_create(conn, c_name, retention, value, storage, prepared)

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
        args = (
            _native.text(schema_name, "schema_name"),
            _native.text(schema_type, "schema_type"),
            _native.text(str(schema_path) if isinstance(schema_path, Path) else schema_path, "schema_path"),
        )
        await run_blocking(_native.check, _native.lib().schema_create_from_file, conn, *args)

    async def enforce_schema(self, name: str, station_name: str, timeout_retries: int = 5) -> None:
        """Enforce schema ``name`` on ``station_name``."""
        del timeout_retries
        conn = self._conn()
        args = (_native.text(name, "name"), _native.text(station_name, "station_name"))
        await run_blocking(_native.check, _native.lib().schema_enforce, conn, *args)

    async def attach_schema(self, name: str, station_name: str) -> None:
        """Deprecated: use ``enforce_schema``."""
        conn = self._conn()
        args = (_native.text(name, "name"), _native.text(station_name, "station_name"))
        await run_blocking(_native.check, _native.lib().schema_attach, conn, *args)

    async def detach_schema(self, station_name: str, timeout_retries: int = 5) -> None:
        """Remove the schema from ``station_name``."""
        del timeout_retries
        conn = self._conn()
        await run_blocking(_native.check, _native.lib().schema_detach, conn, _native.text(station_name, "station_name"))

    # --- producing ---------------------------------------------------------

    async def producer(
        self,
        station_name: Union[str, List[str]],
        producer_name: str,
        generate_random_suffix: bool = False,
        timeout_retries: int = 5,
        **options: Any,
    ) -> Producer:
        """Create a producer for one station (or a list of stations).

        Library producer options may be given as extra keywords:
        ``max_in_flight`` (default 4000) and ``max_in_flight_bytes`` (default
        32 MiB) bound the nonblocking messages awaiting their
        acknowledgement; ``ack_wait_ms`` (default 15000) is each message's
        deadline; ``idempotent`` (default False) gives every message without
        a ``msg_id`` a unique one so that a message resent after a broker
        crash is stored once (off by default: the broker keeps each id for
        the station's idempotency window, see ``Producer``). Bad values are
        refused here with ``MemphisInvalidArgumentError``."""
        del timeout_retries
        conn = self._conn()
        stations = _names(station_name, "station_name")
        _native.text(producer_name, "producer_name")
        if generate_random_suffix:
            import uuid

            log.warning("memphis: generate_random_suffix is deprecated")
            producer_name = f"{producer_name}_{uuid.uuid4().hex[:8]}"
        name = _native.text(producer_name, "producer_name")
        prepared = _native.prepare_options("producer", options, {})
        handle = await run_blocking(_native.producer_create, conn, stations, name, prepared)
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
    ) -> Optional[Delivery]:
        """Produce without keeping a producer (one is created and cached per
        station and name); returns what ``Producer.produce`` returns."""
        key = repr((station_name, producer_name.lower() if isinstance(producer_name, str) else producer_name))
        producer = self._producer_cache.get(key)
        if producer is None:
            producer = await self.producer(station_name, producer_name, generate_random_suffix)
            self._producer_cache[key] = producer
        return await producer.produce(
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
        **options: Any,
    ) -> Consumer:
        """Create a consumer (and its group, default: the consumer's name).

        Defaults (from the library): pull_interval_ms 1000, batch_size 10,
        batch_max_time_to_wait_ms 5000, max_ack_time_ms 30000,
        max_msg_deliveries 10, start_consume_from_sequence 1,
        last_messages -1 (all).
        """
        del timeout_retries
        conn = self._conn()
        _native.text(consumer_name, "consumer_name")
        if generate_random_suffix:
            import uuid

            log.warning("memphis: generate_random_suffix is deprecated")
            consumer_name = f"{consumer_name}_{uuid.uuid4().hex[:8]}"
        opts = _consumer_options(
            station_name,
            consumer_name,
            {
                "consumer_group": consumer_group or None,
                "pull_interval_ms": pull_interval_ms,
                "batch_size": batch_size,
                "batch_max_time_to_wait_ms": batch_max_time_to_wait_ms,
                "max_ack_time_ms": max_ack_time_ms,
                "max_msg_deliveries": max_msg_deliveries,
                "start_consume_from_sequence": start_consume_from_sequence,
                "last_messages": last_messages,
                **options,
            },
        )
        try:
            handle = await run_blocking(_native.consumer_create, conn, opts)
        finally:
            opts.close()
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
        _partition(consumer_partition_key, consumer_partition_number)  # type errors before creating
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


def _consumer_options(station_name: str, consumer_name: str, values: Dict[str, Any]) -> _native.Options:
    """Library consumer options holding the given values (checked by the
    library when the consumer is created)."""
    opts = _native.Options(
        "consumer", _native.text(station_name, "station_name"), _native.text(consumer_name, "consumer_name")
    )
    try:
        _native.set_options(opts.handle, _native.prepare_options("consumer", values, _CONSUMER_ALIASES))
    except BaseException:
        opts.close()
        raise
    return opts


_ = Pending  # re-exported for type hints in user code
