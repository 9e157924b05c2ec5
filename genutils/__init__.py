"""genutils: what the chapters of the generalization book share.

Chapters import it as ``import genutils as gu``. It holds parameters and
profiles, reproducibility, verdict records, statistics, closed forms, data
generators, plots and progress bars; the paper's own method stays in the chapter.
"""
from .chapter import current_profile, report_verdict
from .data import cluster_data, mnist1d, noisy_labels
from .explorer import explore
from .params import Bool, Choice, Float, Int, List, Optional, ParameterError, Params, check_params
from .plots import label, set_theme, subplots
from .progress import progress
from .repro import configure_threads, device, environment, rng, seed_everything
from .stats import bootstrap_ci, mean_sd, t_interval
from .theory import marchenko_pastur_atom, marchenko_pastur_pdf, marchenko_pastur_support
from .chapter import current_run
from .verdict import all_of, any_of, cond, not_, rule

__version__ = "0.1.0"

configure_threads()

__all__ = [
    "Bool", "Choice", "Float", "Int", "List", "Optional", "ParameterError", "Params", "all_of", "any_of",
    "bootstrap_ci", "check_params", "cluster_data", "cond", "configure_threads", "current_profile", "current_run", "device",
    "environment", "explore", "label", "marchenko_pastur_atom", "marchenko_pastur_pdf", "marchenko_pastur_support",
    "mean_sd", "mnist1d", "noisy_labels", "not_", "progress", "report_verdict", "rng", "rule", "seed_everything",
    "set_theme", "subplots", "t_interval",
]
