"""Desks: who decides on whose instruments, as configuration of one allocation pipeline.

A desk is configuration, not code (``phases/allocation.py`` runs the same pipeline for each): the
budget it spends, its workers (what they see, what they may deploy, their caseload), the laws whose
instruments it deploys, how it ranks candidates for discretionary instruments, and the few practices
that come with deciding for both laws at one desk. Under partitions the P-wet desk and the Wmo desk
decide for the residents outside the transformation desk; the pooled desk decides for those inside
(all of them when integrated).

What the pooled desk's configuration changes, field by field, is exactly what pooling the money does
in this model (``tests/test_fair_comparison.py`` names each field and shows that with equal fields and
budgets that never bind the arms are the same).
"""

from __future__ import annotations

from dataclasses import dataclass

from model.constants import Holder, Role

OUTFLOW_CHANCE = "outflow-chance"  # a client manager's single-domain ranking: creaming [M16]
NEED = "need"  # a Wmo consultant's ranking: the greatest need first [M16]


@dataclass(frozen=True)
class DeskConfig:
    """One desk of the allocation pipeline.

    Attributes:
        name: ``pwet``, ``wmo`` or ``pooled``.
        holder: the budget it spends (rights it grants are paid from the same line, outside its discretionary money).
        role: its workers: their view of the domains, the instruments they may deploy, their caseload.
        laws: whose instruments it deploys: ``PWET_PARTICIPATION`` (re-integration, discretionary) and/or
            ``WMO`` (support after an assessment, a right).
        objective: how it ranks candidates for discretionary instruments: ``outflow-chance``, ``need``, or a
            money objective of ``practice.desk_objective``.
        firm_referral: chance per year that a Wmo day activity it grants is placed at a social firm [SR].
        parallel_help: whether a care client on benefit who receives Wmo support also gets a (work-like) day
            activity in the same package, care and work at the same time [R12].
        care_to_work: ``continue`` (a ready work-like client continues in the same firm place as a trajectory,
            no new intake) or ``intake`` (the move needs a new P-wet intake) [BK18][FW19].
        lock_in_monitoring: whether the desk tracks outflow and so curbs a firm's lock-in [SR].
        refers_by: the role whose view decides which benefit clients the desk's worker makes known for a
            Wmo assessment (a severe blocking problem it sees) [R12].
    """

    name: str
    holder: Holder
    role: Role
    laws: tuple[Holder, ...]
    objective: str
    firm_referral: float
    parallel_help: bool
    care_to_work: str
    lock_in_monitoring: bool
    refers_by: Role

    @property
    def work(self) -> bool:
        """Deploys the P-wet's re-integration instruments."""
        return Holder.PWET_PARTICIPATION in self.laws

    @property
    def support(self) -> bool:
        """Grants Wmo support after an assessment."""
        return Holder.WMO in self.laws


def desks(p) -> dict[str, DeskConfig]:
    """The three desks of a run, from the parameter set (the pooled desk's fields are scenario choices)."""
    partitioned = {"parallel_help": False, "care_to_work": "intake", "lock_in_monitoring": False,
                   "refers_by": Role.CLIENT_MANAGER}
    return {
        "pwet": DeskConfig(name="pwet", holder=Holder.PWET_PARTICIPATION, role=Role.CLIENT_MANAGER,
                           laws=(Holder.PWET_PARTICIPATION,), objective=OUTFLOW_CHANCE, firm_referral=0.0,
                           **partitioned),
        "wmo": DeskConfig(name="wmo", holder=Holder.WMO, role=Role.WMO_CONSULTANT, laws=(Holder.WMO,),
                          objective=NEED, firm_referral=p["firm.wmo_referral_partitioned"], **partitioned),
        "pooled": DeskConfig(name="pooled", holder=Holder.POOLED, role=Role.GENERALIST,
                             laws=(Holder.PWET_PARTICIPATION, Holder.WMO), objective=p["practice.desk_objective"],
                             firm_referral=p["firm.wmo_referral_pooled"],
                             parallel_help=p["desk.pooled_help"] == "parallel",
                             care_to_work=p["desk.pooled_care_to_work"],
                             lock_in_monitoring=p["desk.lock_in_reduction"] > 0,
                             refers_by=Role.GENERALIST if p["desk.pooled_sees"] == "all-domains"
                             else Role.CLIENT_MANAGER),
    }


def as_law_desks(p) -> dict:
    """Parameter values that configure the pooled desk as the law-based desks, field by field (its staff apart).

    They act only on the pooled desk, so a compartmentalised run is the same with or without them; an
    integrated run with them is the one pot alone: the money pooled, the desk deciding as the law-based desks do.
    """
    return {"practice.desk_objective": OUTFLOW_CHANCE, "firm.wmo_referral_pooled": p["firm.wmo_referral_partitioned"],
            "desk.pooled_help": "sequential", "desk.pooled_care_to_work": "intake", "desk.lock_in_reduction": 0.0,
            "desk.pooled_sees": "as-law-desks"}


# Fields in which the pooled desk's configuration may differ from the law-based desks'.
POOLING_FIELDS = ("role", "objective", "firm_referral", "parallel_help", "care_to_work", "lock_in_monitoring", "refers_by")
