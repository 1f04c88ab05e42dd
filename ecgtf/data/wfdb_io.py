"""The one place ecgtf touches WFDB files.

Readers call :func:`read_record`; the synthetic writer and the tests call
:func:`write_record`. Both work in millivolts.

Two on-disk signal formats are supported, as PhysioNet ships them:
    * ``dat``: WFDB format 16 (PTB-XL ``records100/``, ``records500/``).
    * ``mat``: a MATLAB v4 file holding ``val`` (leads x samples, int16), referenced
      from the header as format ``16+24`` (CinC 2017, CinC 2020/2021).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile

import numpy as np
import scipy.io
import wfdb

from ecgtf.data.record import Record, RecordError

_FORMATS = ("dat", "mat")


def read_header(path: str, record_id: str | None = None) -> "wfdb.Record":
    """Reads a ``.hea`` file (``path`` given without extension) with wfdb.

    Raises:
        RecordError: the header is missing or does not parse.
    """
    record_id = record_id or os.path.basename(path)
    if not os.path.exists(path + ".hea"):
        raise RecordError(record_id, f"missing header file {path}.hea")
    try:
        return wfdb.rdheader(path)
    except Exception as err:  # wfdb raises bare ValueError/IndexError on bad headers
        raise RecordError(record_id, f"header does not parse: {_short(err)}") from err


def record_line_problem(hea_path: str) -> str | None:
    """Why a ``.hea`` file's record line (``NAME SIGNALS [RATE [SAMPLES ...]]``, the first line
    that is not a comment) is not one, or None when it is; cheap (no wfdb parse), for readers that
    look for one comment line and must tell a garbage header from one without that line."""
    try:
        with open(hea_path, encoding="ascii", errors="replace") as f:
            line = next((l.strip() for l in f if l.strip() and not l.startswith("#")), None)
    except OSError as err:
        return f"header does not read: {_short(err)}"
    if line is None:
        return "header does not parse: no record line (empty header)"
    if not line.isprintable():
        return "header does not parse: its record line is not text (a binary file?)"
    fields = line.split()
    numeric = len(fields) >= 2 and fields[1].isdigit() and (len(fields) < 3 or _RATE.match(fields[2])) \
        and (len(fields) < 4 or fields[3].isdigit())
    if not numeric:
        return (f"header does not parse: record line {line[:60]!r} is not "
                "'NAME SIGNALS SAMPLING_RATE SAMPLES'")
    return None


def header_comments(header: "wfdb.Record") -> dict[str, str]:
    """Returns the ``#Key: value`` comment lines of a header as a dict."""
    out: dict[str, str] = {}
    for line in header.comments or []:
        if ":" in line:
            key, value = line.split(":", 1)
            out[key.strip()] = value.strip()
    return out


def read_record(path: str, record_id: str | None = None, codes=(), meta=None) -> Record:
    """Reads one WFDB record (header plus signal) into a :class:`Record` in mV.

    Args:
        path: the record path without extension, e.g. ``.../records100/00000/00001_lr``.
        record_id: id to report; defaults to the file name.
        codes: label codes to attach.
        meta: extra fields to attach.

    Raises:
        RecordError: with the reason (header does not parse, signal file missing or
            truncated, ...).
    """
    record_id = record_id or os.path.basename(path)
    try:
        rec = wfdb.rdrecord(path, physical=True)
    except Exception as err:
        rec = _read_repaired(path, record_id, err)
    if rec.p_signal is None:
        raise RecordError(record_id, "header lists no signals")
    units = [u.lower() if u else "mv" for u in (rec.units or [])]
    scale = np.array([_to_mv(u, record_id) for u in units] or [1.0], dtype=np.float64)
    signal = (rec.p_signal * scale).astype(np.float32)
    return Record(
        record_id=record_id,
        signal_mv=signal,
        lead_names=tuple(rec.sig_name),
        sampling_rate=float(rec.fs),
        codes=tuple(codes),
        meta=dict(meta or {}),
    )


def write_record(
    directory: str,
    record_name: str,
    signal_mv: np.ndarray,
    sampling_rate: float,
    lead_names,
    fmt: str = "dat",
    comments=(),
    adc_gain: float = 1000.0,
) -> str:
    """Writes a record as PhysioNet does: int16 samples at ``adc_gain`` units per mV.

    Args:
        directory: output folder (created if needed).
        record_name: record name without extension.
        signal_mv: array ``(samples, leads)`` in mV.
        sampling_rate: Hz.
        lead_names: one name per lead.
        fmt: ``"dat"`` (WFDB format 16) or ``"mat"`` (MATLAB v4 ``val``, format 16+24).
        comments: header comment lines without ``#`` (e.g. ``["Dx: 164889003"]``).
        adc_gain: digital units per mV (1000 for CinC and PTB-XL).

    Returns:
        The record path without extension.
    """
    if fmt not in _FORMATS:
        raise ValueError(f"fmt must be one of {_FORMATS}, got {fmt!r}")
    signal_mv = np.asarray(signal_mv, dtype=np.float64)
    if signal_mv.ndim != 2:
        raise ValueError(f"signal_mv must be (samples, leads), got shape {signal_mv.shape}")
    n, n_sig = signal_mv.shape
    lead_names = list(lead_names)
    os.makedirs(directory, exist_ok=True)
    digital = np.clip(np.round(signal_mv * adc_gain), -32767, 32767).astype(np.int16)
    if fmt == "dat":
        wfdb.wrsamp(
            record_name, fs=sampling_rate, units=["mV"] * n_sig, sig_name=lead_names,
            d_signal=digital.astype(np.int64), fmt=["16"] * n_sig, adc_gain=[adc_gain] * n_sig,
            baseline=[0] * n_sig, comments=list(comments), write_dir=directory,
        )
    else:
        scipy.io.savemat(os.path.join(directory, record_name + ".mat"), {"val": digital.T}, format="4")
        header = wfdb.Record(
            record_name=record_name, n_sig=n_sig, fs=sampling_rate, sig_len=n,
            file_name=[record_name + ".mat"] * n_sig, fmt=["16"] * n_sig, byte_offset=[24] * n_sig,
            adc_gain=[adc_gain] * n_sig, baseline=[0] * n_sig, units=["mV"] * n_sig,
            adc_res=[16] * n_sig, adc_zero=[0] * n_sig,
            init_value=[int(v) for v in digital[0]],
            checksum=[int(c) for c in digital.astype(np.int64).sum(axis=0) % 65536],
            block_size=[0] * n_sig, sig_name=lead_names, comments=list(comments),
        )
        header.wrheader(write_dir=directory)
    return os.path.join(directory, record_name)


# --- internals -------------------------------------------------------------------------

_UNIT_TO_MV = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "v": 1e3, "nu": 1.0}
_RECORD_LINE_EXT = re.compile(r"^(\S+?)\.(mat|dat|hea)(\s)", re.IGNORECASE)
_RATE = re.compile(r"^\d+(\.\d*)?(/\d+(\.\d*)?)?(\(-?\d+(\.\d*)?\))?$")  # FS[/COUNTER_FREQ[(BASE)]]


def _to_mv(unit: str, record_id: str) -> float:
    if unit not in _UNIT_TO_MV:
        raise RecordError(record_id, f"unknown signal unit {unit!r}")
    return _UNIT_TO_MV[unit]


def _short(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return (text[0] if text else type(err).__name__)[:200]


def _read_repaired(path: str, record_id: str, first_error: Exception):
    """Reads a record whose header wfdb rejects for a known, harmless reason.

    Some Georgia (CinC 2020) headers name the signal file, with its extension, on
    the record line (``E00271.mat 12 500 5000``). The header is rewritten in a
    temporary folder with the extension dropped, beside links to the signal files.
    Anything else is reported as a RecordError with the reason.
    """
    hea = path + ".hea"
    if not os.path.exists(hea):
        raise RecordError(record_id, f"missing header file {hea}")
    with open(hea, encoding="ascii", errors="ignore") as f:
        lines = f.read().splitlines()
    first = next((i for i, l in enumerate(lines) if l.strip() and not l.startswith("#")), None)
    if first is None:
        raise RecordError(record_id, "header does not parse: empty header")
    fixed = _RECORD_LINE_EXT.sub(r"\1\3", lines[first] + " ", count=1).rstrip()
    if fixed == lines[first].rstrip():
        raise _signal_error(path, record_id, first_error)
    lines[first] = fixed
    base = fixed.split()[0]
    src_dir = os.path.dirname(os.path.abspath(path))
    tmp = tempfile.mkdtemp(prefix="ecgtf_hea_")
    try:
        with open(os.path.join(tmp, base + ".hea"), "w") as f:
            f.write("\n".join(lines) + "\n")
        for line in lines[first + 1:]:
            parts = line.split()
            if parts and not line.startswith("#"):
                link = os.path.join(tmp, parts[0])
                if not os.path.exists(link):
                    os.symlink(os.path.join(src_dir, parts[0]), link)
        try:
            return wfdb.rdrecord(os.path.join(tmp, base), physical=True)
        except Exception as err:
            raise _signal_error(path, record_id, err) from err
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _signal_error(path: str, record_id: str, err: Exception) -> RecordError:
    """Turns a wfdb exception into a RecordError with a readable reason."""
    try:
        header = wfdb.rdheader(path)
    except Exception:
        return RecordError(record_id, f"header does not parse: {_short(err)}")
    directory = os.path.dirname(os.path.abspath(path))
    for name in dict.fromkeys(header.file_name or []):
        sig_path = os.path.join(directory, name)
        if not os.path.exists(sig_path):
            return RecordError(record_id, f"missing signal file {name}")
        expected = _expected_bytes(header, name)
        actual = os.path.getsize(sig_path)
        if expected is not None and actual < expected:
            return RecordError(
                record_id, f"truncated signal file {name}: {actual} bytes, expected {expected}"
            )
    return RecordError(record_id, f"signal does not read: {_short(err)}")


def _expected_bytes(header, file_name: str) -> int | None:
    """Bytes a format-16 signal file must hold, or None for other formats."""
    idx = [i for i, f in enumerate(header.file_name) if f == file_name]
    if not idx or any(header.fmt[i] != "16" for i in idx) or not header.sig_len:
        return None
    offset = (header.byte_offset or [0] * header.n_sig)[idx[0]] or 0
    return int(offset) + 2 * len(idx) * int(header.sig_len)
