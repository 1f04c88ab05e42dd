"""Holding a run to its model's input contract (e.g. the published Ribeiro weights').

Before the data are read, :func:`apply_contract` moves the run to the contract's sampling rate
and window (records are resampled at decode and centre-cropped or zero-padded to the window),
saying what changed. After, :func:`check_leads` refuses data whose leads differ in number or
order from the contract's.
"""

from __future__ import annotations

import dataclasses

from ecgtf.models.registry import InputContract

# Lead name spellings that mean the same lead.
_ALIASES = {"I": "DI", "II": "DII", "III": "DIII"}


def contract_of(entry, cfg) -> InputContract | None:
    """The contract ``entry`` declares for the weights ``cfg`` loads, or None."""
    if entry.contract is None:
        return None
    options = {**cfg.model_options, "weights": cfg.weights, "init_from": cfg.init_from}
    return entry.contract(options)


def apply_contract(cfg, contract: InputContract | None, say=print):
    """``cfg`` moved to ``contract``'s sampling rate and window, each change said with ``say``."""
    if contract is None:
        return cfg
    changes = {}
    if contract.sampling_rate and cfg.sampling_rate != contract.sampling_rate:
        was = f"{cfg.sampling_rate:g} Hz" if cfg.sampling_rate else "the dataset's own rate"
        say(f"note: {contract.name} expect {contract.sampling_rate:g} Hz; resampling the records from {was}")
        changes["sampling_rate"] = float(contract.sampling_rate)
    if contract.samples:
        rate = changes.get("sampling_rate", cfg.sampling_rate) or contract.sampling_rate
        duration = contract.samples / rate
        if not cfg.duration_s or abs(cfg.duration_s * rate - contract.samples) > 0.5:
            say(f"note: {contract.name} expect {contract.samples} samples; records are centre-cropped or "
                f"zero-padded to {duration:g} s")
            changes["duration_s"] = duration
    return dataclasses.replace(cfg, **changes) if changes else cfg


def _norm(name: str) -> str:
    name = str(name).strip().upper()
    return _ALIASES.get(name, name)


def check_leads(contract: InputContract | None, lead_names) -> None:
    """Raises ValueError when ``lead_names`` differ in number or order from the contract's."""
    if contract is None or not contract.lead_names:
        return
    have = [_norm(n) for n in lead_names]
    want = [_norm(n) for n in contract.lead_names]
    if have != want:
        raise ValueError(f"{contract.name} expect the leads {', '.join(contract.lead_names)} in that order; "
                         f"the data have {len(have)}: {', '.join(lead_names)}")
