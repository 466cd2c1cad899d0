"""Give each report a stable identity: by partner reference, else by content and ordinal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.core.util.hashing import combine_hash_arrays

_HASH_KEYS = ("beatplan-report1", "beatplan-report2")
_STR = "string[pyarrow]"
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HASH_SLICE = 500_000  # rows of a text column hashed at a time when its values hardly repeat


def content_ids(content: pd.DataFrame, accepted: pd.Series) -> pd.Series:
    """Identify rows by their content plus their ordinal among identical accepted rows.

    Parameters
    ----------
    content
        The values that make a report what it is, one column each (``lon``/``lat`` as whole
        micro-degrees); rejected rows must hold the same placeholder values.
    accepted
        Boolean mask of the accepted rows.

    Returns
    -------
    pandas.Series of str
        A 32-character hex id per row.
    """
    k1, k2 = _row_hashes(content)
    ordinal = np.zeros(len(content), dtype=np.int64)
    rows = np.flatnonzero(np.asarray(accepted, dtype=bool))
    ordinal[rows] = _ordinals(k1[rows], k2[rows])
    return pd.Series(
        _hex128(*_row_hashes(pd.DataFrame({"k1": k1, "k2": k2, "n": ordinal}))),
        index=content.index,
    )


def reference_ids(
    rid: pd.Series, accepted: pd.Series, source: pd.Series, ref: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """Identify rows that carry a reference by (source, reference) instead of content.

    Parameters
    ----------
    rid
        The content ids (:func:`content_ids`).
    accepted
        Boolean mask of the accepted rows.
    source
        Each row's source slug.
    ref
        Each row's reference text (blank or missing where there is none).

    Returns
    -------
    (rid, duplicates)
        The ids, and a mask of accepted rows repeating an earlier row's id in this file.
    """
    has_ref = (ref.notna() & (ref != "")).to_numpy(dtype=bool)
    if has_ref.all():
        hi, lo = _row_hashes(pd.DataFrame({"kind": "r", "source": source, "ref": ref}))
        rid = pd.Series(_hex128(hi, lo), index=rid.index)
        return rid, accepted & pd.Series(repeated_words(hi, lo), index=rid.index)
    if has_ref.any():
        by_ref = _hex128(*_row_hashes(pd.DataFrame({"kind": "r", "source": source, "ref": ref})))
        rid = rid.where(~has_ref, pd.Series(by_ref, index=rid.index))
    return rid, accepted & pd.Series(_repeated(rid), index=rid.index)


def id_words(report_ids: pd.Series | pd.api.extensions.ExtensionArray) -> np.ndarray | None:
    """Ids of 32 lower-case hex digits as two unsigned 64-bit words each (``None`` if not).

    The words sort and compare as the ids' text does, without a Python string per id.

    Parameters
    ----------
    report_ids
        The ids.

    Returns
    -------
    numpy.ndarray of uint64, shape (n, 2), or None
        ``None`` when any id is missing or not 32 lower-case hex digits.
    """
    arr = pa.chunked_array([pa.array(report_ids, type=pa.string(), from_pandas=True)])
    if arr.null_count:
        return None
    out = np.empty((len(arr), 2), dtype=np.uint64)
    for start in range(0, len(arr), _HASH_SLICE):  # bounded temporaries (32 bytes an id)
        part = arr.slice(start, _HASH_SLICE).combine_chunks()
        words = _slice_words(part)
        if words is None:
            return None
        out[start : start + len(part)] = words
    return out


def _slice_words(arr: pa.StringArray) -> np.ndarray | None:
    """:func:`id_words` of one array without missing values (``None`` if not all hex ids)."""
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32, count=n + 1, offset=4 * arr.offset)
    if offsets[-1] - offsets[0] != 32 * n or not (np.diff(offsets) == 32).all():
        return None
    chars = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    nibble = np.full(256, 255, dtype=np.uint8)
    nibble[_HEX] = np.arange(16, dtype=np.uint8)
    digits = nibble[chars]
    if (digits == 255).any():
        return None
    digits = digits.reshape(n, 32)
    packed = np.ascontiguousarray((digits[:, 0::2] << 4) | digits[:, 1::2])  # 16 bytes an id
    return packed.view(">u8").astype(np.uint64)


def _repeated(rid: pd.Series) -> np.ndarray:
    """``rid.duplicated(keep="first")``, on the ids' two 64-bit words where they have them."""
    words = id_words(rid.array)
    if words is None:
        return rid.duplicated(keep="first").to_numpy()
    return repeated_words(words[:, 0], words[:, 1])


def repeated_words(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Mask of the rows whose ``(hi, lo)`` pair appeared on an earlier row (sort, no hashing).

    Parameters
    ----------
    hi, lo
        Two equal-length integer arrays (an id's two 64-bit words).

    Returns
    -------
    numpy.ndarray of bool
    """
    order = np.lexsort((lo, hi))  # stable: the first of equal pairs comes first
    same = np.zeros(len(order), dtype=bool)
    if len(order) > 1:
        a, b = order[1:], order[:-1]
        same[1:] = (hi[a] == hi[b]) & (lo[a] == lo[b])
    out = np.zeros(len(order), dtype=bool)
    out[order[same]] = True
    return out


def _ordinals(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Each row's count of earlier rows with the same ``(hi, lo)`` pair (``cumcount``)."""
    n = len(hi)
    order = np.lexsort((lo, hi))
    start = np.ones(n, dtype=bool)
    if n > 1:
        a, b = order[1:], order[:-1]
        start[1:] = (hi[a] != hi[b]) | (lo[a] != lo[b])
    rank = np.arange(n, dtype=np.int64)
    first = np.maximum.accumulate(np.where(start, rank, 0))
    out = np.empty(n, dtype=np.int64)
    out[order] = rank - first
    return out


def micro_degrees(values: pd.Series) -> np.ndarray:
    """Coordinates as whole micro-degrees (missing and absurd values clipped), for hashing.

    Parameters
    ----------
    values
        Degrees.

    Returns
    -------
    numpy.ndarray of int64
    """
    arr = np.clip(np.nan_to_num(values.to_numpy(dtype="float64"), nan=0.0), -1e4, 1e4)
    return np.round(arr * 1e6).astype("int64")


def _row_hashes(parts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 64-bit hashes of each row (pandas' SipHash, fixed keys).

    The values of ``pandas.util.hash_pandas_object(parts, index=False, hash_key=k)`` with
    text missing as ``""``, computed with each text column dictionary-encoded once (its
    distinct values hashed per key) and each numeric column hashed once (numbers do not
    depend on the key): stored ids never change with the way they are computed.
    """
    if parts.empty:
        return np.zeros(len(parts), dtype=np.uint64), np.zeros(len(parts), dtype=np.uint64)
    per_key: dict[str, list[np.ndarray]] = {k: [] for k in _HASH_KEYS}
    for col in parts.columns:
        values = parts[col]
        if pd.api.types.is_numeric_dtype(values):
            hashed = pd.util.hash_array(values.to_numpy())
            for k in _HASH_KEYS:
                per_key[k].append(hashed)
            continue
        text = pa.chunked_array([pa.array(values.astype(_STR).fillna(""), type=pa.string())])
        # A slice at a time: never a whole column of Python strings (references hardly repeat).
        slices = [text.slice(i, _HASH_SLICE) for i in range(0, len(text), _HASH_SLICE)]
        for k, hashed in _text_hashes(slices).items():
            per_key[k].append(hashed)
    width = len(parts.columns)
    return tuple(  # type: ignore[return-value]
        combine_hash_arrays(iter(per_key[k]), width, len(parts)) for k in _HASH_KEYS
    )


def _text_hashes(slices: list[pa.ChunkedArray]) -> dict[str, np.ndarray]:
    """Each key's hash of every value of a text column given in slices (each value once)."""
    out: dict[str, list[np.ndarray]] = {k: [] for k in _HASH_KEYS}
    for part in slices:
        enc = pc.dictionary_encode(part).combine_chunks()
        distinct = enc.dictionary.to_numpy(zero_copy_only=False)
        codes = enc.indices.to_numpy()
        for k in _HASH_KEYS:
            if len(distinct):
                out[k].append(pd.util.hash_array(distinct, hash_key=k, categorize=False)[codes])
            else:
                out[k].append(np.zeros(len(codes), dtype=np.uint64))
    return {k: np.concatenate(v) if len(v) > 1 else v[0] for k, v in out.items()}


def _hex128(h1: np.ndarray, h2: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Render two uint64 arrays as one 32-character hex string per row, as Arrow-backed text."""
    n = len(h1)
    both = np.empty((n, 2), dtype=">u8")
    both[:, 0] = h1
    both[:, 1] = h2
    raw = both.view(np.uint8).reshape(n, 16)
    text = np.empty((n, 32), dtype=np.uint8)
    text[:, 0::2] = _HEX[raw >> 4]
    text[:, 1::2] = _HEX[raw & 15]
    offsets = np.arange(0, 32 * (n + 1), 32, dtype=np.int64)
    arr = pa.Array.from_buffers(
        pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(text)]
    )
    return pd.array(arr.cast(pa.string()), dtype=_STR)
