"""Readers for the score files that attribution libraries write, as their users have them.

Each reader returns a :class:`PeerScores`: the stored array (not copied where the format allows a
memory map), the orientation the format defines and why, and what was read (for
``aria inspect``). :func:`aria.io.scores.load_scores` turns it into the labelled matrix.

=============  ==========================================================  ====================
format         layout                                                      stored orientation
=============  ==========================================================  ====================
TRAK           ``save_dir/`` with ``experiments.json`` and                 train x targets
               ``scores/<experiment>.mmap`` (an ``.npy`` file)
Kronfluence    ``pairwise_scores.safetensors`` (key ``all_modules`` or      query x train
               one key per module), the partitioned
               ``pairwise_scores_data_partition{i}_module_partition{j}``
               files, or the ``scores_<name>/`` folder
quanda         explanations cache: a folder of ``<batch>.pt`` tensors      test x train
               (``ExplanationsCache.save``), batches numbered 0..K-1
bergson        score folder: ``info.json`` + ``scores.bin`` (a structured   train x queries
               ``(score_i, written_i)`` record per training item)
=============  ==========================================================  ====================

Nothing here unpickles: torch files are read with ``weights_only=True`` and safetensors with the
``safetensors`` package's numpy API (no torch needed).
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aria.errors import AriaDependencyError, AriaInputError
from aria.io.npyfile import npy_header, open_npy
from aria.io.torchfile import tensor_to_numpy, torch_load

__all__ = ["PeerScores", "SEGMENTS_X_QUERIES", "QUERIES_X_SEGMENTS", "detect_peer", "read_peer", "peer_runs"]

#: Orientation names (the values of ``load_scores(orientation=...)`` and ``--orientation``).
SEGMENTS_X_QUERIES, QUERIES_X_SEGMENTS = "segments-x-queries", "queries-x-segments"

_KRON_PARTITION = re.compile(r"^pairwise_scores_data_partition(\d+)_module_partition(\d+)\.safetensors$")
_KRON_ALL = "all_modules"
_ST_DTYPES = {"F16": "<f2", "F32": "<f4", "F64": "<f8", "I8": "i1", "I16": "<i2", "I32": "<i4",
              "I64": "<i8", "U8": "u1", "U16": "<u2", "U32": "<u4", "U64": "<u8"}


@dataclass
class PeerScores:
    """A score matrix as a peer library stored it.

    Attributes
    ----------
    fmt : str
        ``"trak"``, ``"kronfluence"``, ``"safetensors"``, ``"quanda"`` or ``"bergson"``.
    stored : str or None
        :data:`SEGMENTS_X_QUERIES` or :data:`QUERIES_X_SEGMENTS` when the format defines it;
        None for a generic safetensors file (a bare array).
    reason : str
        Why the orientation is known (or not).
    shape : tuple of int
        Stored shape (2-D).
    dtype : numpy.dtype
        Stored dtype (bfloat16 is reported as ``"bfloat16"`` and read as float32).
    streams : bool
        True when the array is a memory map read block by block, False when it is built in memory.
    parts : list of dict
        What was read: ``{"name", "shape", "dtype"}`` per array, key or batch file.
    notes : list of str
        Anything else the user should know (experiment chosen, modules summed...).
    array : numpy.ndarray or None
        The stored array; None when only described (:func:`read_peer` with ``load=False``).

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from safetensors.numpy import save_file
    >>> from aria.io.peers import read_peer
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> save_file({"all_modules": np.ones((2, 5), np.float32)}, str(d / "pairwise_scores.safetensors"))
    >>> ps = read_peer(d, "kronfluence", load=False)
    >>> ps.fmt, ps.shape, ps.array is None
    ('kronfluence', (2, 5), True)
    """

    fmt: str
    stored: str | None
    reason: str
    shape: tuple[int, ...]
    dtype: str
    streams: bool
    parts: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    array: np.ndarray | None = None


def detect_peer(p: Path) -> str | None:
    """Which peer layout ``p`` is, or None for the plain formats (.npy, .npz, .nc, .zarr, .pt).

    Parameters
    ----------
    p : pathlib.Path
        An existing file or directory.

    Returns
    -------
    str or None
        ``"trak"``, ``"kronfluence"``, ``"safetensors"``, ``"quanda"``, ``"bergson"`` or None.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "experiments.json").write_text("{}")
    2
    >>> detect_peer(d)
    'trak'
    """
    if p.is_dir():
        if (p / "info.json").is_file() and (p / "scores.bin").is_file():
            return "bergson"
        if _trak_save_dir(p) is not None:
            return "trak"
        if _kron_files(p) or _kron_score_dirs(p):
            return "kronfluence"
        if any(_batch_id(f) is not None for f in p.glob("*.pt")):
            return "quanda"
        return None
    suffix = p.suffix.lower()
    if suffix == ".safetensors":
        return "safetensors"
    if p.name == "scores.bin" and (p.parent / "info.json").is_file():
        return "bergson"
    if suffix == ".mmap" and p.parent.name == "scores" and (p.parent.parent / "experiments.json").is_file():
        return "trak"
    return None


def read_peer(p: Path, fmt: str, *, variable: str | None = None, experiment: str | None = None,
              load: bool = True) -> PeerScores:
    """Read (or, with ``load=False``, only describe) a peer library's score file.

    Parameters
    ----------
    p : pathlib.Path
        File or directory, as :func:`detect_peer` recognised it.
    fmt : str
        :func:`detect_peer`'s answer.
    variable : str, optional
        Kronfluence/safetensors: the key (module) to read instead of all modules summed.
    experiment : str, optional
        TRAK: the experiment; Kronfluence analysis folder: the scores name (``scores_<name>``).
    load : bool
        False: describe shapes, dtypes and orientation without reading the data.

    Returns
    -------
    PeerScores

    Raises
    ------
    AriaInputError
        Incomplete, inconsistent or ambiguous input (one line).

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from safetensors.numpy import save_file
    >>> from aria.io.peers import detect_peer, read_peer
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> q_by_train = np.arange(10, dtype=np.float32).reshape(2, 5)
    >>> save_file({"all_modules": q_by_train}, str(d / "pairwise_scores.safetensors"))
    >>> fmt = detect_peer(d)
    >>> ps = read_peer(d, fmt)
    >>> fmt, ps.shape
    ('kronfluence', (2, 5))
    >>> ps.reason
    'Kronfluence pairwise scores are query x train (transposed on read)'
    """
    if fmt == "trak":
        return _read_trak(p, experiment, load)
    if fmt in ("kronfluence", "safetensors"):
        return _read_kronfluence(p, variable, experiment, load)
    if fmt == "quanda":
        return _read_quanda(p, load)
    if fmt == "bergson":
        return _read_bergson(p.parent if p.is_file() else p, load)
    raise AriaInputError(f"{p}: unknown score format {fmt!r}")  # pragma: no cover


def peer_runs(p: Path, fmt: str) -> list[str]:
    """Names of the runs a folder holds: TRAK experiments, Kronfluence ``scores_<name>`` runs.

    Parameters
    ----------
    p : pathlib.Path
        A TRAK save_dir (or its ``scores/``) or a Kronfluence analysis folder.
    fmt : str
        :func:`detect_peer`'s answer.

    Returns
    -------
    list of str
        Sorted names; empty for a single file or another format.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from safetensors.numpy import save_file
    >>> from aria.io.peers import peer_runs
    >>> d = pathlib.Path(tempfile.mkdtemp())  # a Kronfluence analysis folder with two runs
    >>> for name in ("ekfac", "identity"):
    ...     (d / f"scores_{name}").mkdir()
    ...     save_file({"all_modules": np.ones((2, 5), np.float32)},
    ...               str(d / f"scores_{name}" / "pairwise_scores.safetensors"))
    ...
    >>> peer_runs(d, "kronfluence")
    ['ekfac', 'identity']
    """
    if fmt == "trak" and p.is_dir():
        try:
            return sorted(_trak_experiments(_trak_save_dir(p))[0])
        except AriaInputError:
            return []
    if fmt == "kronfluence" and p.is_dir() and not _kron_files(p):
        return sorted(_kron_score_dirs(p))
    return []


# --------------------------------------------------------------------------------------------- TRAK

def _trak_save_dir(p: Path) -> Path | None:
    if (p / "experiments.json").is_file():
        return p
    if p.name == "scores" and (p.parent / "experiments.json").is_file():
        return p.parent
    if p.name == "scores" and any(p.glob("*.mmap")):  # a scores/ folder copied on its own
        return p.parent
    return None


def _trak_experiments(save_dir: Path) -> tuple[dict, bool]:
    """experiments.json, or (without it) one record per ``scores/*.mmap``; and whether it was read."""
    exp_file = save_dir / "experiments.json"
    if not exp_file.is_file():
        return {f.stem: {} for f in sorted((save_dir / "scores").glob("*.mmap"))}, False
    try:
        experiments = json.loads(exp_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AriaInputError(f"{exp_file}: not a readable TRAK experiments.json ({exc})") from None
    if not isinstance(experiments, dict):
        raise AriaInputError(f"{exp_file}: expected an object mapping experiment name to its record")
    return experiments, True


def _read_trak(p: Path, experiment: str | None, load: bool) -> PeerScores:
    if p.is_file():  # scores/<exp>.mmap inside a save_dir
        save_dir, wanted = p.parent.parent, p.stem
        if experiment is not None and experiment != wanted:
            raise AriaInputError(f"{p}: is experiment {wanted!r}, not experiment={experiment!r}")
        experiment = wanted
    else:
        save_dir = _trak_save_dir(p)
        assert save_dir is not None
    experiments, recorded = _trak_experiments(save_dir)
    if not experiments:
        raise AriaInputError(
            f"{save_dir}: TRAK save_dir has no scored experiment (experiments.json is empty); "
            "run TRAKer.start_scoring_checkpoint / score / finalize_scores first"
        )
    names = sorted(experiments)
    if experiment is None:
        if len(names) > 1:
            raise AriaInputError(
                f"{save_dir}: TRAK save_dir holds {len(names)} experiments ({', '.join(names)}); "
                "choose one with experiment=NAME"
            )
        experiment = names[0]
    elif experiment not in experiments:
        raise AriaInputError(
            f"{save_dir}: no TRAK experiment {experiment!r} (experiments: {', '.join(names)})"
        )
    record = experiments[experiment] if isinstance(experiments[experiment], dict) else {}
    if int(record.get("scores_finalized", 1)) != 1:
        raise AriaInputError(
            f"{save_dir}: TRAK experiment {experiment!r} is not finalized (scores_finalized=0 in "
            f"experiments.json); run TRAKer.finalize_scores(exp_name={experiment!r}) first"
        )
    mmap = save_dir / "scores" / f"{experiment}.mmap"  # not record["scores_path"]: folders move
    if not mmap.is_file():
        raise AriaInputError(f"{save_dir}: TRAK experiment {experiment!r} has no scores file {mmap}")
    shape, dtype, fortran, _ = npy_header(mmap)
    if len(shape) != 2:
        raise AriaInputError(f"{mmap}: TRAK scores must be 2-D (train x targets), got shape {shape}")
    targets = record.get("num_targets")
    if targets is not None and int(targets) != shape[1]:
        raise AriaInputError(
            f"{mmap}: holds {shape[1]} targets but experiments.json says num_targets={targets}"
        )
    notes = [f"experiment {experiment!r} of {len(names)} ({', '.join(names)})"]
    if not recorded:
        notes.append("no experiments.json beside scores/: finalization and num_targets not checked")
    if dtype == np.float16:
        notes.append("float16 (TRAK's use_half_precision): read exactly, computed in float64")
    return PeerScores(
        fmt="trak", stored=SEGMENTS_X_QUERIES,
        reason="TRAK writes scores/<experiment>.mmap as train set size x num_targets",
        shape=shape, dtype=str(dtype), streams=True,
        parts=[{"name": f"scores/{experiment}.mmap", "shape": list(shape), "dtype": str(dtype)}],
        notes=notes, array=open_npy(mmap) if load else None,
    )


# -------------------------------------------------------------------------------------- Kronfluence

def _kron_files(d: Path) -> list[Path]:
    return sorted(f for f in d.glob("pairwise_scores*.safetensors")
                  if f.name == "pairwise_scores.safetensors" or _KRON_PARTITION.match(f.name))


def _kron_score_dirs(d: Path) -> dict[str, Path]:
    return {s.name[len("scores_"):]: s for s in sorted(d.glob("scores_*"))
            if s.is_dir() and _kron_files(s)}


def _safetensors_header(p: Path) -> tuple[dict, int]:
    """The JSON header of a safetensors file and the byte offset of its data."""
    try:
        with open(p, "rb") as fh:
            raw = fh.read(8)
            if len(raw) < 8:
                raise AriaInputError(f"{p}: truncated safetensors file (no header)")
            (n,) = struct.unpack("<Q", raw)
            if n > 100 * 2**20 or n > p.stat().st_size - 8:
                raise AriaInputError(f"{p}: not a safetensors file (header length {n})")
            header = json.loads(fh.read(n))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AriaInputError(f"{p}: not a readable safetensors file ({exc})") from None
    if not isinstance(header, dict):
        raise AriaInputError(f"{p}: not a safetensors file (header is not an object)")
    data_start = 8 + n
    size = p.stat().st_size
    for key, info in header.items():
        if key == "__metadata__":
            continue
        end = int(info.get("data_offsets", [0, 0])[1]) if isinstance(info, dict) else -1
        if end < 0 or data_start + end > size:
            raise AriaInputError(f"{p}: truncated safetensors file (tensor {key!r} runs past the end)")
    return header, data_start


def _safe_open(p: Path):
    try:
        from safetensors import safe_open
    except ImportError:
        raise AriaDependencyError(
            f"{p}: reading safetensors (Kronfluence) needs the safetensors package; install it with: "
            "pip install 'aria-tda[peers]'"
        ) from None
    try:
        return safe_open(str(p), framework="numpy")
    except Exception as exc:  # SafetensorError and friends for corrupt files
        raise AriaInputError(f"{p}: not a readable safetensors file ({str(exc).splitlines()[0]})") from None


def _st_tensor(p: Path, header: dict, data_start: int, key: str, load: bool) -> np.ndarray | None:
    """One tensor: a read-only memory map for numpy dtypes, a float32 copy for bfloat16."""
    if not load:
        return None
    info = header[key]
    start, end = (int(x) for x in info["data_offsets"])
    shape = tuple(int(s) for s in info["shape"])
    st_dtype = info["dtype"]
    if st_dtype == "BF16":
        raw = np.memmap(p, dtype="<u2", mode="r", offset=data_start + start, shape=shape)
        return (raw.astype(np.uint32) << 16).view(np.float32)
    if st_dtype not in _ST_DTYPES:
        raise AriaInputError(f"{p}: tensor {key!r} has dtype {st_dtype}; expected real numbers")
    dtype = np.dtype(_ST_DTYPES[st_dtype])
    if int(np.prod(shape)) * dtype.itemsize != end - start:
        raise AriaInputError(f"{p}: tensor {key!r}: shape {shape} {st_dtype} does not match its byte range")
    if int(np.prod(shape)) == 0:
        return np.zeros(shape, dtype=dtype)
    return np.memmap(p, dtype=dtype, mode="r", offset=data_start + start, shape=shape)


def _kron_source(p: Path, experiment: str | None) -> tuple[Path, list[Path]]:
    """The folder (or file) and the safetensors files to read."""
    if p.is_file():
        return p.parent, [p]
    files = _kron_files(p)
    if not files:
        runs = _kron_score_dirs(p)
        if experiment is None:
            if len(runs) > 1:
                raise AriaInputError(
                    f"{p}: Kronfluence analysis folder holds {len(runs)} score runs "
                    f"({', '.join(runs)}); choose one with experiment=NAME"
                )
            experiment = next(iter(runs))
        if experiment not in runs:
            raise AriaInputError(f"{p}: no Kronfluence scores_{experiment}/ (runs: {', '.join(runs)})")
        p = runs[experiment]
        files = _kron_files(p)
    elif experiment is not None and not p.name == f"scores_{experiment}":
        raise AriaInputError(f"{p}: is Kronfluence scores folder {p.name!r}, not scores_{experiment}")
    whole = [f for f in files if f.name == "pairwise_scores.safetensors"]
    return p, whole or files


def _read_kronfluence(p: Path, variable: str | None, experiment: str | None, load: bool) -> PeerScores:
    folder, files = _kron_source(p, experiment)
    headers = {}
    for f in files:
        headers[f] = _safetensors_header(f)
        with _safe_open(f) as st:  # the package's own checks, beyond the header parse
            if not list(st.keys()):
                raise AriaInputError(f"{f}: safetensors file holds no tensor")
    first = files[0]
    header0 = headers[first][0]
    meta = header0.get("__metadata__") or {}
    if first.name.startswith("self_scores"):
        raise AriaInputError(
            f"{first}: holds Kronfluence self-influence scores (one per training example), not the "
            "pairwise query x train scores Aria diagnoses (pairwise_scores.safetensors)"
        )
    is_kron = ("module_partitions" in meta and "data_partitions" in meta) or \
        first.name.startswith("pairwise_scores")
    if not is_kron:
        return _read_generic_safetensors(first, headers[first], variable, load)
    if len(files) > 1 or _KRON_PARTITION.match(first.name):
        return _read_kron_partitions(folder, files, headers, variable, meta, load)
    keys = [k for k in header0 if k != "__metadata__"]
    key_list, summed = _kron_keys(first, keys, variable)
    parts = [{"name": k, "shape": [int(x) for x in header0[k]["shape"]],
              "dtype": _st_numpy_dtype(header0[k]["dtype"])} for k in key_list]
    shape = _kron_shape(first, parts)
    array = None
    if load:
        array = (_st_tensor(first, *headers[first], key_list[0], True) if len(key_list) == 1
                 else _sum_keys(first, headers[first], key_list))
    single = len(key_list) == 1
    return PeerScores(
        fmt="kronfluence", stored=QUERIES_X_SEGMENTS,
        reason="Kronfluence pairwise scores are query x train (transposed on read)",
        shape=shape, dtype=parts[0]["dtype"] if single else "float64",
        streams=single and parts[0]["dtype"] != "bfloat16", parts=parts,
        notes=_kron_notes(meta, key_list, summed), array=array,
    )


def _kron_keys(f: Path, keys: list[str], variable: str | None) -> tuple[list[str], bool]:
    if variable is not None:
        if variable not in keys:
            raise AriaInputError(f"{f}: no tensor {variable!r} (keys: {', '.join(keys)})")
        return [variable], False
    if _KRON_ALL in keys:
        return [_KRON_ALL], False
    return keys, len(keys) > 1


def _kron_shape(f: Path, parts: list[dict]) -> tuple[int, int]:
    shapes = {tuple(x["shape"]) for x in parts}
    dtypes = {x["dtype"] for x in parts}
    if len(shapes) != 1 or len(dtypes) != 1:
        raise AriaInputError(
            f"{f}: module tensors differ in shape or dtype ({', '.join(x['name'] for x in parts)}); "
            "pick one with variable=NAME"
        )
    shape = shapes.pop()
    if len(shape) != 2:
        raise AriaInputError(
            f"{f}: pairwise scores must be 2-D (query x train), got shape {shape}"
            + (" (per-token scores are not supported)" if len(shape) == 3 else "")
        )
    return shape


def _kron_notes(meta: dict, key_list: list[str], summed: bool) -> list[str]:
    notes = []
    if summed:
        notes.append(f"{len(key_list)} per-module tensors summed (what all_modules holds); "
                     "--variable NAME reads one module")
    elif key_list != [_KRON_ALL]:
        notes.append(f"module {key_list[0]!r} only")
    if str(meta.get("aggregate_query_gradients", "False")) == "True":
        notes.append("aggregate_query_gradients=True: one aggregated query")
    if str(meta.get("aggregate_train_gradients", "False")) == "True":
        notes.append("aggregate_train_gradients=True: one aggregated training row")
    return notes


def _st_numpy_dtype(st_dtype: str) -> str:
    if st_dtype == "BF16":
        return "bfloat16"
    return str(np.dtype(_ST_DTYPES.get(st_dtype, "<f4"))) if st_dtype in _ST_DTYPES else st_dtype


def _sum_keys(f: Path, header: tuple[dict, int], keys: list[str]) -> np.ndarray:
    """Sum module tensors in float64 (Kronfluence sums them in its score dtype)."""
    with _safe_open(f) as st:
        out = None
        for k in keys:
            t = st.get_tensor(k) if header[0][k]["dtype"] != "BF16" else _st_tensor(f, *header, k, True)
            out = np.array(t, dtype=np.float64) if out is None else out + t
    return out


def _read_kron_partitions(folder: Path, files: list[Path], headers: dict, variable: str | None,
                          meta: dict, load: bool) -> PeerScores:
    """Assemble partition files as Kronfluence's ``aggregate_pairwise_scores`` does.

    Module partitions hold disjoint modules (or partial ``all_modules`` sums): added. Data
    partitions hold consecutive blocks of training rows: concatenated along the train axis.
    """
    grid: dict[tuple[int, int], Path] = {}
    for f in files:
        m = _KRON_PARTITION.match(f.name)
        if m is None:
            raise AriaInputError(f"{f}: not a Kronfluence partition file name")
        grid[(int(m.group(1)), int(m.group(2)))] = f
    n_data = int(meta.get("data_partitions", 1 + max(i for i, _ in grid)))
    n_mod = int(meta.get("module_partitions", 1 + max(j for _, j in grid)))
    missing = [(i, j) for i in range(n_data) for j in range(n_mod) if (i, j) not in grid]
    if missing:
        i, j = missing[0]
        raise AriaInputError(
            f"{folder}: Kronfluence partitions incomplete: {len(missing)} of {n_data * n_mod} missing "
            f"(e.g. data_partition{i}_module_partition{j}); finish them or aggregate first"
        )
    if str(meta.get("aggregate_train_gradients", "False")) == "True":
        raise AriaInputError(
            f"{folder}: partitions with aggregate_train_gradients=True have no per-row scores"
        )
    parts: list[dict] = []
    use: dict[tuple[int, int], list[str]] = {}
    widths, queries, dtypes = [], set(), set()
    for i in range(n_data):
        shape_i = None
        for j in range(n_mod):
            f = grid[(i, j)]
            header = headers[f][0]
            keys = [k for k in header if k != "__metadata__"]
            use[(i, j)] = [k for k in keys if variable is None or k == variable]
            for k in use[(i, j)]:
                shape = tuple(int(x) for x in header[k]["shape"])
                dtypes.add(header[k]["dtype"])
                parts.append({"name": f"{f.name}:{k}", "shape": list(shape),
                              "dtype": _st_numpy_dtype(header[k]["dtype"])})
                if len(shape) != 2:
                    raise AriaInputError(f"{f}: pairwise scores must be 2-D (query x train), got {shape}")
                if shape_i is None:
                    shape_i = shape
                elif shape != shape_i:
                    raise AriaInputError(f"{f}: tensor {k!r} has shape {shape}, expected {shape_i}")
        if shape_i is None:
            raise AriaInputError(
                f"{folder}: no tensor {variable!r} in data partition {i} "
                f"(keys: {', '.join(sorted({k for (ii, _), ks in use.items() if ii == i for k in ks}))})"
            )
        queries.add(shape_i[0])
        widths.append(shape_i[1])
    if len(queries) != 1:
        raise AriaInputError(
            f"{folder}: data partitions disagree on the number of queries ({sorted(queries)})"
        )
    shape = (queries.pop(), sum(widths))
    array = None
    if load:
        blocks = []
        for i in range(n_data):
            total = None
            for j in range(n_mod):
                if use[(i, j)]:
                    s = _sum_keys(grid[(i, j)], headers[grid[(i, j)]], use[(i, j)])
                    total = s if total is None else total + s
            blocks.append(total)
        array = np.concatenate(blocks, axis=1)
    notes = [f"{n_data} data x {n_mod} module partitions assembled as Kronfluence aggregates them "
             "(modules summed, training rows concatenated in partition order), in float64"]
    if variable is not None:
        notes.append(f"module {variable!r} only")
    return PeerScores(
        fmt="kronfluence", stored=QUERIES_X_SEGMENTS,
        reason="Kronfluence pairwise scores are query x train (transposed on read)",
        shape=shape, dtype="float64", streams=False, parts=parts, notes=notes, array=array,
    )


def _read_generic_safetensors(f: Path, header: tuple[dict, int], variable: str | None,
                              load: bool) -> PeerScores:
    h = header[0]
    keys = [k for k in h if k != "__metadata__"]
    key = variable or ("scores" if "scores" in keys else (keys[0] if len(keys) == 1 else None))
    if key is None or key not in keys:
        raise AriaInputError(
            f"{f}: choose the tensor (keys: {', '.join(keys)}); name it 'scores' or pass variable=NAME"
        )
    shape = tuple(int(s) for s in h[key]["shape"])
    if len(shape) != 2:
        raise AriaInputError(f"{f}: score matrix must be 2-D, tensor {key!r} has shape {shape}")
    return PeerScores(
        fmt="safetensors", stored=None, reason="a bare safetensors tensor says nothing about its axes",
        shape=shape, dtype=_st_numpy_dtype(h[key]["dtype"]), streams=h[key]["dtype"] != "BF16",
        parts=[{"name": k, "shape": list(h[k]["shape"]), "dtype": _st_numpy_dtype(h[k]["dtype"])}
               for k in keys],
        notes=[f"tensor {key!r}"], array=_st_tensor(f, *header, key, load),
    )


# ------------------------------------------------------------------------------------------ quanda

def _batch_id(f: Path) -> int | None:
    stem = f.stem
    return int(stem) if f.suffix == ".pt" and stem.lstrip("-").isdigit() else None


def _read_quanda(p: Path, load: bool) -> PeerScores:
    files = sorted(p.glob("*.pt"))
    ids = {}
    for f in files:
        b = _batch_id(f)
        if b is None:
            raise AriaInputError(
                f"{p}: quanda explanations cache has a file that is not a numbered batch ({f.name}); "
                "expected only <batch>.pt files"
            )
        ids[b] = f
    order = sorted(ids)
    if order != list(range(len(order))):
        gap = next((k for k in range(len(order)) if k not in ids), order[-1])
        raise AriaInputError(
            f"{p}: quanda explanations cache batches must be numbered 0..{len(order) - 1}, "
            f"batch {gap} is missing (found {order[0]}..{order[-1]})"
        )
    tensors, parts = [], []
    n_train = None
    for b in order:
        f = ids[b]
        a = tensor_to_numpy(torch_load(f, what="a quanda cache (.pt batches)"), str(f))
        if a.ndim != 2:
            raise AriaInputError(f"{f}: quanda batch must be 2-D (test batch x train), got shape {a.shape}")
        if n_train is None:
            n_train = a.shape[1]
        elif a.shape[1] != n_train:
            raise AriaInputError(f"{f}: batch has {a.shape[1]} training columns, batch 0 has {n_train}")
        parts.append({"name": f.name, "shape": list(a.shape), "dtype": str(a.dtype)})
        tensors.append(a)
    dtypes = {x["dtype"] for x in parts}
    shape = (sum(a.shape[0] for a in tensors), n_train)
    array = np.concatenate(tensors, axis=0) if load else None
    return PeerScores(
        fmt="quanda", stored=QUERIES_X_SEGMENTS,
        reason="quanda caches explanations as test batch x train tensors (transposed on read)",
        shape=shape, dtype=str(np.result_type(*[np.dtype(d) for d in dtypes])), streams=False,
        parts=parts, notes=[f"{len(order)} batches concatenated in numeric order (in memory)"],
        array=array,
    )


# ----------------------------------------------------------------------------------------- bergson

def _read_bergson(d: Path, load: bool) -> PeerScores:
    info_path = d / "info.json"
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        rows, n_scores = int(info["num_rows"]), int(info["num_scores"])
        spec = info["dtype"]
        names, formats, offsets = list(spec["names"]), list(spec["formats"]), list(spec["offsets"])
        itemsize = int(spec["itemsize"])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise AriaInputError(
            f"{info_path}: not a bergson score info.json ({type(exc).__name__}: {exc})"
        ) from None
    if info.get("attribute_tokens"):
        raise AriaInputError(
            f"{d}: bergson per-token score store (attribute_tokens=true): rows are tokens, not training "
            "items; Aria reads per-item stores"
        )
    if (d / "candidates.npy").exists():
        raise AriaInputError(
            f"{d}: bergson store scored on a candidate subset (candidates.npy): rows are not the "
            "training set in order; re-score without candidates"
        )
    score_fields = [f"score_{i}" for i in range(n_scores)]
    pos = {n: k for k, n in enumerate(names)}
    if any(f not in pos or f"written_{i}" not in pos for i, f in enumerate(score_fields)) or n_scores < 1:
        raise AriaInputError(f"{info_path}: dtype lacks score_i / written_i fields for {n_scores} scores")
    fmt = {formats[pos[f]] for f in score_fields}
    if len(fmt) != 1:
        raise AriaInputError(f"{info_path}: score fields have different dtypes ({', '.join(sorted(fmt))})")
    fmt_name = fmt.pop()
    bf16 = fmt_name == "bfloat16"
    try:
        score_dtype = np.dtype("<u2" if bf16 else fmt_name)
    except TypeError:
        raise AriaInputError(f"{info_path}: unsupported score dtype {fmt_name!r}") from None
    if score_dtype.kind not in "fiu":
        raise AriaInputError(f"{info_path}: score dtype {fmt_name!r} is not numeric")
    off = [int(offsets[pos[f]]) for f in score_fields]
    woff = [int(offsets[pos[f"written_{i}"]]) for i in range(n_scores)]
    step = off[1] - off[0] if n_scores > 1 else score_dtype.itemsize
    if any(o != off[0] + i * step for i, o in enumerate(off)) or \
            any(w != o + score_dtype.itemsize for w, o in zip(woff, off, strict=True)):
        raise AriaInputError(f"{info_path}: unexpected score field layout (offsets {off[:4]}...)")
    data = d / "scores.bin"
    size = data.stat().st_size
    if size != rows * itemsize:
        raise AriaInputError(
            f"{data}: {size} bytes but info.json says {rows} rows x {itemsize} bytes = {rows * itemsize}"
        )
    shape = (rows, n_scores)
    notes = ["values as stored (bergson's higher_is_better sign convention is not applied)"]
    array = None
    if load:
        raw = np.memmap(data, dtype=np.uint8, mode="r")
        view = np.ndarray(shape, dtype=score_dtype, buffer=raw, offset=off[0], strides=(itemsize, step))
        written = np.ndarray(shape, dtype=np.bool_, buffer=raw, offset=woff[0], strides=(itemsize, step))
        for start in range(0, rows, 65536):
            blk = written[start:start + 65536]
            if not blk.all():
                r, c = np.argwhere(~blk)[0]
                raise AriaInputError(
                    f"{data}: incomplete bergson scores: row {start + r}, query {c} was never written "
                    f"({int((~written).sum())} cells); finish the scoring run first"
                )
        array = (view.astype(np.uint32) << 16).view(np.float32) if bf16 else view
    return PeerScores(
        fmt="bergson", stored=SEGMENTS_X_QUERIES,
        reason="bergson writes one scores.bin record per training item, one score field per query",
        shape=shape, dtype="bfloat16" if bf16 else str(score_dtype), streams=not bf16,
        parts=[{"name": "scores.bin", "shape": [rows], "dtype": f"record of {n_scores} x "
                f"({fmt_name}, bool), {itemsize} bytes"}],
        notes=notes, array=array,
    )
