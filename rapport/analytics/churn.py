"""Silent regulars: each customer's usual interval between orders, and how unusual its silence is.

The model
---------
A customer who is still buying is taken to buy at its own steady rate λ: the days between two
purchase occasions are exponential with mean 1/λ (the purchase process of the Pareto/NBD and
BG/NBD family: Schmittlein, Morrison & Colombo, "Counting your customers", Management Science
1987; Fader, Hardie & Lee, "'Counting your customers' the easy way: an alternative to the
Pareto/NBD model", Marketing Science 2005). Rates differ between customers and follow a gamma
distribution over the population, Gamma(r, α) with shape r and rate α (in days).

A customer whose history shows n intervals adding up to S days then has the posterior rate
Gamma(r + n, α + S) (the gamma prior is conjugate to the exponential), and:

* its usual interval, the posterior mean of 1/λ, is (α + S) / (r + n − 1): its own average
  gap S / n pulled toward the population by the pseudo-data (r − 1 intervals of α / (r − 1)
  days). A customer with one interval barely moves from the population; one with twenty
  is judged on its own record. That is the empirical-Bayes shrinkage;
* the chance that, still buying at its pace, it would stay silent t days is the posterior
  predictive P(no purchase in t days) = ((α + S) / (α + S + t)) ^ (r + n) (a Lomax tail);
* its churn risk is 1 − that chance, and it is flagged when the risk reaches the alert level
  (``RAPPORT_CHURN_ALERT``).

So "silent too long" is measured against each customer's own rhythm: 90 days of silence is
alarming for a monthly buyer and ordinary for one that orders twice a year.

(r, α) are fitted by maximum likelihood on the population's intervals: a customer with n
intervals summing to S contributes log Γ(r + n) − log Γ(r) + r log α − (r + n) log(α + S).
The fit uses only completed intervals; the silence since the last order is what is being
judged, so it is left out (counting it would explain a lost customer away as a slow one).
With fewer than ``MIN_FIT_CUSTOMERS`` customers that have an interval, the data cannot carry
a fit and a weak prior is used instead: r = 1, α = the pooled average interval (worth one
interval of the population's average length).

Orders on the same day are one purchase occasion; a customer with a single occasion has no
interval yet and is reported as not scored. Everything is O(purchase occasions).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Below this many customers with at least one interval the fit is noise: use the weak prior.
MIN_FIT_CUSTOMERS = 30
# Search bounds for the prior's shape: r near 0 is "anything goes", a huge r would say all
# customers buy at the same rate and would override each one's own record.
R_BOUNDS = (0.05, 50.0)
DEFAULT_ALERT = 0.8  # the risk at which a regular is flagged; chosen in bench/churn_eval.py (docs/analytics.md)


@dataclass(frozen=True)
class Prior:
    """The population's purchase rates: Gamma(shape ``r``, rate ``alpha`` in days)."""

    r: float
    alpha: float
    customers: int  # customers with at least one interval it was learned from
    fitted: bool  # False: too few customers, the weak prior

    @property
    def mean_interval_days(self) -> float | None:
        return self.alpha / (self.r - 1) if self.r > 1 else None


@dataclass(frozen=True)
class History:
    """One customer's purchase occasions up to the as-of date."""

    occasions: int  # distinct order days
    first: dt.date
    last: dt.date

    @property
    def intervals(self) -> int:
        return self.occasions - 1

    @property
    def span_days(self) -> int:
        return (self.last - self.first).days


@dataclass(frozen=True)
class Score:
    usual_interval_days: float
    days_silent: int
    chance: float  # P(a silence this long | still buying at its usual pace)
    risk: float  # 1 − chance


def history(days: Iterable[dt.date]) -> History | None:
    """The occasions of a customer from its order dates (repeats allowed, any order)."""
    distinct = set(days)
    if not distinct:
        return None
    return History(occasions=len(distinct), first=min(distinct), last=max(distinct))


def weak_prior(pairs: Iterable[tuple[int, int]]) -> Prior:
    """r = 1 and α = the pooled average interval: one pseudo-interval of average length."""
    n_total = s_total = customers = 0
    for n, s in pairs:
        if n >= 1:
            n_total += n
            s_total += s
            customers += 1
    alpha = s_total / n_total if n_total else 30.0  # no interval anywhere: nobody is scored
    return Prior(r=1.0, alpha=max(alpha, 1.0), customers=customers, fitted=False)


def _weak_prior_counts(groups: Mapping[tuple[int, int], int]) -> Prior:
    n_total = sum(n * w for (n, _s), w in groups.items())
    s_total = sum(s * w for (_n, s), w in groups.items())
    alpha = s_total / n_total if n_total else 30.0
    return Prior(r=1.0, alpha=max(alpha, 1.0), customers=sum(groups.values()), fitted=False)


def fit_prior(pairs: Iterable[tuple[int, int]]) -> Prior:
    """The gamma prior of purchase rates from (intervals, span in days) per customer.

    Maximum likelihood by Newton's method on (log r, log α), with a backtracking line search.
    Customers are grouped by (n, S), so the cost of an iteration is the number of distinct
    histories, not of customers.
    """
    return fit_prior_counts(Counter((n, s) for n, s in pairs))


def fit_prior_counts(counts: Mapping[tuple[int, int], int]) -> Prior:
    """``fit_prior`` from how many customers share each (intervals, span in days) history."""
    groups = Counter({(n, s): w for (n, s), w in counts.items() if n >= 1 and s > 0 and w > 0})
    customers = sum(groups.values())
    if customers < MIN_FIT_CUSTOMERS:
        return _weak_prior_counts(groups)
    rows = [(n, float(s), float(w)) for (n, s), w in sorted(groups.items())]  # a fixed order: the same sums
    max_n = max(n for n, _s, _w in rows)
    start = _weak_prior_counts(groups)
    u, v = math.log(start.r), math.log(start.alpha)
    lo, hi = math.log(R_BOUNDS[0]), math.log(R_BOUNDS[1])

    def loglik(u: float, v: float) -> float:
        r, a = math.exp(u), math.exp(v)
        lg_r, log_a = math.lgamma(r), math.log(a)
        return sum(w * (math.lgamma(r + n) - lg_r + r * log_a - (r + n) * math.log(a + s)) for n, s, w in rows)

    current = loglik(u, v)
    for _ in range(100):
        r, a = math.exp(u), math.exp(v)
        # Σ_{k<n} 1/(r+k) and Σ_{k<n} 1/(r+k)²: the digamma and trigamma differences, exact for integer n.
        h1 = [0.0] * (max_n + 1)
        h2 = [0.0] * (max_n + 1)
        for k in range(max_n):
            h1[k + 1] = h1[k] + 1 / (r + k)
            h2[k + 1] = h2[k] + 1 / (r + k) ** 2
        g_r = g_a = h_rr = h_ra = h_aa = 0.0
        log_a = math.log(a)
        for n, s, w in rows:
            g_r += w * (h1[n] + log_a - math.log(a + s))
            g_a += w * (r / a - (r + n) / (a + s))
            h_rr -= w * h2[n]
            h_ra += w * (1 / a - 1 / (a + s))
            h_aa += w * (-r / a**2 + (r + n) / (a + s) ** 2)
        gu, gv = r * g_r, a * g_a
        huu, hvv, huv = r * r * h_rr + gu, a * a * h_aa + gv, r * a * h_ra
        det = huu * hvv - huv * huv
        if huu < 0 and det > 0:
            du, dv = -(hvv * gu - huv * gv) / det, -(huu * gv - huv * gu) / det
        else:  # not concave here: a plain uphill step, scaled so the line search starts sensibly
            norm = math.hypot(gu, gv) or 1.0
            du, dv = gu / norm, gv / norm
        step = 1.0
        while step > 1e-10:
            nu, nv = min(max(u + step * du, lo), hi), v + step * dv
            candidate = loglik(nu, nv)
            if candidate >= current:
                break
            step /= 2
        else:
            break
        moved = max(abs(nu - u), abs(nv - v))
        u, v, current = nu, nv, candidate
        if moved < 1e-9:
            break
    return Prior(r=math.exp(u), alpha=math.exp(v), customers=customers, fitted=True)


def score(h: History, *, as_of: dt.date, prior: Prior) -> Score | None:
    """The customer's usual interval and how likely its silence is; ``None`` for a single occasion."""
    if h.intervals < 1:
        return None
    a = prior.alpha + h.span_days
    k = prior.r + h.intervals
    silent = max((as_of - h.last).days, 0)
    chance = (a / (a + silent)) ** k
    return Score(usual_interval_days=a / (k - 1), days_silent=silent, chance=chance, risk=1.0 - chance)


def silence_at_risk(h: History, *, prior: Prior, risk: float) -> float | None:
    """After how many days of silence the customer's risk reaches ``risk`` (the chance drops to
    1 − risk): the day it will be flagged if no order comes. ``None`` for a single occasion."""
    if h.intervals < 1 or not 0 < risk < 1:
        return None
    a = prior.alpha + h.span_days
    k = prior.r + h.intervals
    return a * ((1 - risk) ** (-1 / k) - 1)


def alert_level() -> float:
    """The churn risk (0–1) at which a regular is flagged: ``RAPPORT_CHURN_ALERT``."""
    from django.conf import settings

    return float(getattr(settings, "RAPPORT_CHURN_ALERT", DEFAULT_ALERT))
