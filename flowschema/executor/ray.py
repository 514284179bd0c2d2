"""``RayExecutor``: validate chunks as Ray tasks, on a local Ray or an existing Ray cluster.

Ray is optional (``pip install "flowschema[ray]"``; ``"flowschema[ray]"`` brings Ray Client
too, for ``ray://`` addresses). Importing this module never needs Ray; building an executor
does.

Chunks travel as msgpack (+ LZ4) bytes, exactly as to the multiprocessing workers. The model
is put in Ray's object store once per executor and cached by each Ray worker process. At most
``max_inflight`` tasks are in flight, refilled as tasks finish, and results are yielded in
input order. Crashed workers and lost nodes are retried by Ray (``MAX_RETRIES``); after that the
call fails with ``WorkerCrashError`` naming the rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import logging
import os
import socket
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

import cloudpickle
import numpy as np
from pydantic import BaseModel

from flowschema.errors import ChunkTimeoutError, FlowSchemaError, WorkerCrashError
from flowschema.executor._pool import InFlight, map_in_order, validate_payload
from flowschema.executor.base import (
    COLUMNAR_CHUNKSIZE,
    BaseExecutor,
    Chunk,
    auto_chunksize,
    check_positive_int,
    check_timeout,
)
from flowschema.shared_memory import Parcel
from flowschema.transport import (
    check_compression,
    chunk_buffers,
    chunk_message_of,
    encode_chunk,
    pack_chunk,
    replace_buffers,
    written,
)
from flowschema.validation import ChunkResult, ValidationOptions

__all__ = [
    "CLIENT_SERVER_ATTEMPTS", "MAX_RETRIES", "RayExecutor", "cached_model", "connect_ray", "pickled_model",
    "probe_address", "shutdown_ray",
]

#: how often Ray retries a task whose worker process or node died
MAX_RETRIES = 3
#: rows per task at most when no chunksize is given: Ray's overhead is about 1 ms per task, and
#: chunks this large measured 10-15% faster than 5,000-row ones on a local Ray
RAY_AUTO_CHUNKSIZE = 10_000
#: seconds to wait for an address to answer before giving up (Ray itself may wait minutes)
PROBE_TIMEOUT = 10.0
#: how long one ``ray.wait`` blocks, so Ctrl-C is noticed promptly
_WAIT_SECONDS = 0.2
#: how often a ``ray://`` connection is tried when the cluster's Ray Client server could not
#: start the server for this connection: Ray forks that server from a multithreaded gRPC process
#: and a few percent of the forks die at once (https://github.com/ray-project/ray/issues/63202)
CLIENT_SERVER_ATTEMPTS = 5
#: what Ray Client's error says in that case: the proxier saw the fork exit, or it found the fork
#: already dead (a zombie) when it read its command line
_CLIENT_SERVER_FAILED = ("Starting Ray client server failed", "psutil.ZombieProcess")


def _client_server_failed(exc: BaseException) -> bool:
    return any(marker in str(exc) for marker in _CLIENT_SERVER_FAILED)


def _import_ray():
    try:
        import ray
    except ModuleNotFoundError as exc:
        if exc.name != "ray":
            raise
        raise ImportError(
            'RayExecutor needs Ray: pip install "flowschema[ray]" (Ray Client for ray:// addresses included)'
        ) from None
    return ray


def probe_address(address: str, timeout: float = PROBE_TIMEOUT) -> None:
    """Raise ``ConnectionError`` naming ``address`` unless something accepts TCP connections there.

    ``address`` is ``"host:port"`` or ``"ray://host:port"``.
    """
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"Ray address must be None, 'auto', 'host:port' or 'ray://host:port', got {address!r}")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise ConnectionError(
            f"nothing answers at Ray address {address!r} ({exc}). Is the cluster running "
            "(`ray start --head` prints its address), and is the port reachable from here?"
        ) from None


def _token_hint() -> str:
    if os.environ.get("RAY_AUTH_MODE", "").lower() == "token":
        return (" RAY_AUTH_MODE=token is set: check that the token (RAY_AUTH_TOKEN, or the file "
                "~/.ray/auth_token) is the cluster's.")
    return (" If the cluster uses token authentication (the default of `ray start` in recent Ray), "
            "set RAY_AUTH_MODE=token in this environment; the token is read from RAY_AUTH_TOKEN or "
            "from ~/.ray/auth_token, where `ray start --head` wrote it on the head machine.")


# -- the worker side ----------------------------------------------------------------------------

_worker_models: dict[str, type[BaseModel]] = {}


def cached_model(model_bytes: bytes) -> type[BaseModel]:
    """The model ``pickled_model`` made, unpickled once per worker process."""
    key = hashlib.sha256(model_bytes).hexdigest()
    model = _worker_models.get(key)
    if model is None:
        model = _worker_models[key] = cloudpickle.loads(model_bytes)
    return model


def _validate_in_ray_worker(model_bytes: bytes, payload: bytes | tuple, options: bytes,
                            compression: str | None) -> bytes:
    return validate_payload(cached_model(model_bytes), payload, options, compression)


def _importable(module_name: str) -> bool:
    try:
        importlib.import_module(module_name)
    except ImportError:
        return False
    return True


# -- the driver side ----------------------------------------------------------------------------


def _rows(chunk: Chunk) -> str:
    return f"rows {chunk.start}..{chunk.start + chunk.size - 1} (0-based positions)"


#: whether FlowSchema started (or connected to) the Ray of this process; it then ends it
_ray_started_here = False


def shutdown_ray() -> None:
    """Shut down the local Ray FlowSchema started in this process, or disconnect from the cluster
    it connected to; a Ray initialised by someone else is left alone."""
    global _ray_started_here
    if _ray_started_here and "ray" in sys.modules and sys.modules["ray"].is_initialized():
        sys.modules["ray"].shutdown()
    _ray_started_here = False


def connect_ray(address: str | None) -> None:
    """Connect this process to Ray as ``RayExecutor(address=...)`` does, unless it already is.

    None starts a local Ray for this process; ``"auto"``, ``"host:port"`` and
    ``"ray://host:port"`` connect to a cluster (checked to answer first). What this starts or
    connects to belongs to FlowSchema: ``flowschema.close()`` ends it.
    """
    global _ray_started_here
    ray = _import_ray()
    if ray.is_initialized():
        return
    if address is None:
        ray.init(address="local", include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        _ray_started_here = True
        return
    if address != "auto":
        probe_address(address)
    try:
        _init_cluster(ray, address)
    except ConnectionError as exc:
        where = "running on this machine" if address == "auto" else f"at {address!r}"
        if _client_server_failed(exc):
            hint = (f" The cluster's Ray Client server failed to start a server for this connection "
                    f"{CLIENT_SERVER_ATTEMPTS} times: see ray_client_server_*.err in the head node's Ray logs.")
        else:
            hint = "" if address == "auto" else _token_hint()
        raise ConnectionError(f"could not connect to the Ray cluster {where}: {str(exc).rstrip('.')}.{hint}") from None
    _ray_started_here = True


def _init_cluster(ray: Any, address: str) -> None:
    """``ray.init(address)``, tried again when a ``ray://`` connection failed only because the
    cluster could not start its server for this connection (``CLIENT_SERVER_ATTEMPTS``)."""
    for attempt in range(1, CLIENT_SERVER_ATTEMPTS + 1):
        try:
            with _client_mode_kept_on_failure():
                ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
            return
        except ConnectionError as exc:
            if attempt == CLIENT_SERVER_ATTEMPTS or not _client_server_failed(exc):
                raise


@contextlib.contextmanager
def _client_mode_kept_on_failure() -> Iterator[None]:
    """Put Ray's client mode back as it was when a connection fails.

    Ray (2.60) switches the process to client mode before it opens a ``ray://`` connection and
    leaves it on when the connection fails; every later ``ray.init`` of the process then fails
    with a bare AssertionError, so one failed attempt would break the kernel's Ray for good.
    """
    try:
        from ray._private import client_mode_hook
    except ImportError:  # another Ray: nothing to restore
        yield
        return
    before = client_mode_hook.is_client_mode_enabled
    try:
        yield
    except BaseException:
        client_mode_hook.is_client_mode_enabled = before
        raise


def pickled_model(model: type[BaseModel]) -> bytes:
    """``model`` cloudpickled for the cluster's workers: by value when they cannot import its
    module (a notebook's ``__main__``, a module only the driver has). Needs a connected Ray."""
    ray = _import_ray()
    module_name = model.__module__
    remote_import = ray.remote(num_cpus=0)(_importable)
    if module_name == "__main__" or ray.get(remote_import.remote(module_name)):
        return cloudpickle.dumps(model)
    module = sys.modules[module_name]
    cloudpickle.register_pickle_by_value(module)
    try:
        return cloudpickle.dumps(model)
    finally:
        cloudpickle.unregister_pickle_by_value(module)


class RayExecutor(BaseExecutor):
    """Validate as Ray tasks, on a local Ray or an existing cluster.

    - ``address=None``: the Ray already initialised in this process, else a new local Ray for
      this process (``close()`` shuts that one down). ``"auto"``: the cluster running on this
      machine. ``"host:port"``: that cluster. ``"ray://host:port"``: through Ray Client.
      A Ray already initialised in this process is used whatever the address.
    - ``compression``: ``"lz4"`` or None, for chunks and results alike.
    - ``max_inflight``: tasks in flight at most (chunks beyond it are not read yet).
    - ``chunksize``: rows per task; None picks up to ``RAY_AUTO_CHUNKSIZE`` (``COLUMNAR_CHUNKSIZE``
      on the columnar engine), fewer for small frames so that every CPU of the cluster gets work.
    - ``timeout``: seconds one task may take (None: no limit); then ``ChunkTimeoutError``.
    """

    name = "ray"
    in_process = False
    run_chunksize = 100

    def __init__(
        self,
        schema_model: type[BaseModel],
        address: str | None = None,
        compression: str | None = None,
        max_inflight: int = 20,
        chunksize: int | None = None,
        timeout: float | None = None,
    ) -> None:
        super().__init__(schema_model, chunksize)
        self.compression = check_compression(compression)
        self.timeout = check_timeout(timeout)
        self.max_inflight = check_positive_int("max_inflight", max_inflight)
        if address is not None and not isinstance(address, str):
            raise TypeError(f"address must be None, 'auto', 'host:port' or 'ray://host:port', got {address!r}")
        self.address = address
        self._ray = ray = _import_ray()
        self._model_ref = None
        self._ready()
        self._task = ray.remote(num_cpus=1, max_retries=MAX_RETRIES, retry_exceptions=False)(_validate_in_ray_worker)

    def _ready(self) -> Any:
        """Connect (again, after ``flowschema.close()``) and put the model in the object store."""
        connect_ray(self.address)
        if self._model_ref is None:
            self._model_ref = self._ray.put(pickled_model(self.schema_model))
        return self._model_ref

    def cluster_cpus(self) -> int:
        """The CPUs of the cluster Ray sees now."""
        return max(1, int(self._ray.cluster_resources().get("CPU", 1)))

    def chunksize_for(self, rows: int, columnar: bool = False) -> int:
        largest = COLUMNAR_CHUNKSIZE if columnar else RAY_AUTO_CHUNKSIZE
        return self.chunksize or auto_chunksize(rows, self.cluster_cpus(), largest)

    def map_chunks(self, chunks: Iterable[Chunk], options: ValidationOptions) -> Iterator[ChunkResult]:
        ray = self._ray
        model_ref = self._ready()
        pickled_options = cloudpickle.dumps(options)
        head: list = [None, time.monotonic()]  # the oldest task, and since when it has been the oldest

        def wait(in_flight: InFlight) -> bytes | None:
            chunk, _, ref = in_flight[0]
            if ref is not head[0]:  # results come in order: the oldest task has run at least since now
                head[:] = [ref, time.monotonic()]
            ready, _ = ray.wait([ref], timeout=_WAIT_SECONDS)
            if not ready:
                if self.timeout is not None and time.monotonic() - head[1] > self.timeout:
                    raise ChunkTimeoutError(
                        f"validating {_rows(chunk)} against {self.schema_model.__name__} took more than "
                        f"timeout={self.timeout} s; its task was cancelled and no partial result is returned. "
                        "A validator that hangs on these rows is the usual cause: try them with executor='sync'"
                    )
                return None
            try:
                return ray.get(ref)
            except ray.exceptions.RayError as exc:
                raise self._task_failure(chunk, exc) from exc

        def stop(in_flight: InFlight, exc: BaseException) -> None:  # Ctrl-C, an early stop or a failure
            for _, _, ref in in_flight:
                if ref is not None:
                    ray.cancel(ref, force=True)

        return map_in_order(chunks, self.max_inflight, self._pack,
                            lambda payload: self._task.remote(model_ref, payload, pickled_options, self.compression),
                            wait, stop)

    def _pack(self, chunk: Chunk) -> Parcel:
        """The chunk in the object store once (``ray.put``): its message as bytes (values keep their
        exact types), its buffers as arrays the task reads in place on its node; LZ4-compressed
        bytes instead when compression is asked for."""
        if self.compression is not None:
            return Parcel(encode_chunk(chunk, self.compression))
        message = chunk_message_of(chunk)
        buffers = [np.frombuffer(written(buffer), dtype=np.uint8) for buffer in chunk_buffers(message)]
        head = pack_chunk(chunk, replace_buffers(message, range(len(buffers))), None)  # values: our exact codec
        return Parcel(self._ray.put((head, buffers)))

    def _task_failure(self, chunk: Chunk, exc: Exception) -> FlowSchemaError:
        exceptions = self._ray.exceptions
        if isinstance(exc, exceptions.RayTaskError):
            if isinstance(getattr(exc, "cause", None), FlowSchemaError):  # ours (engine='columnar'...): as it is
                return exc.cause
            return FlowSchemaError(f"validating {_rows(chunk)} failed inside a Ray worker: {exc}")
        cause = ("Ray's memory monitor killed the worker: the node ran out of memory, see the README on bounding "
                 "worker memory" if isinstance(exc, exceptions.OutOfMemoryError) else f"{type(exc).__name__}: {exc}")
        return WorkerCrashError(
            f"Ray could not validate {_rows(chunk)} against {self.schema_model.__name__} after {MAX_RETRIES} "
            f"retries ({cause}); no partial result is returned"
        )

    def close(self) -> None:
        """Free this executor's model in the object store. The Ray it started (or connected to)
        stays up for the other executors: ``flowschema.close()`` or the process's exit ends it."""
        self._model_ref = None  # the object store frees what nothing refers to

    def __repr__(self) -> str:
        return (f"RayExecutor({self.schema_model.__name__}, address={self.address!r}, "
                f"compression={self.compression!r}, max_inflight={self.max_inflight}, timeout={self.timeout})")
