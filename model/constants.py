"""Categories and unit constants of the model.

These are names, not behavioural numbers: every number that shapes behaviour lives in
``parameters.toml``. The integer codes index numpy arrays, so their order is fixed.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

MONTHS_PER_YEAR = 12.0
PER_10K = 10_000  # inhabitants per staffing / places unit
SPUN_UP_KEPT = 16  # spun-up states a process keeps at once, the oldest going first (memory; results do not change)
SPUN_UP_MAX_ROWS = 400_000  # larger municipalities are spun up every time: a copy would cost more memory than it saves
RELEASED_ROWS_PER_COLLECTION = 100_000  # a full garbage collection once released models held this many resident rows
# (about thirty default municipalities, some 150 MB): each costs 60-200 ms whatever the size, more in a process that
# imported the whole command line (memory; results do not change)
WHOLE_POPULATION = "all"  # group_by and group of a result row about every resident (not a breakdown)
COMPACT_WHEN_GONE = 0.2  # drop the rows of residents who left once they are this share of all rows (memory; results do not change)
MORTALITY_REFERENCE_AGE = 40.0  # the age at which demography.mortality_at_40 is stated
DISPLAY_DIGITS = 3  # rounding of persona tables
HALF_YEAR = 0.5  # years: the [M16] "first six months" of a benefit spell


class Status(IntEnum):
    """Primary position of a resident in a year (exactly one at a time)."""

    REGULAR_WORK = 0
    SUBSIDISED_WORK = 1  # work with wage-cost subsidy (loonkostensubsidie)
    SHELTERED_WORK = 2  # beschut werk
    TRAJECTORY = 3  # re-integration trajectory (mediation, training or social-firm place)
    DAY_ACTIVITIES = 4  # Wmo day activities (work-like or not)
    GUIDANCE_ONLY = 5  # Wmo guidance or household help, no activity
    BENEFIT_NO_SUPPORT = 6  # social assistance without any instrument
    NOT_IN_SIGHT = 7  # has problems, not known to any desk (non-take-up)
    OTHER_INCOME = 8  # off benefit with an income of its own or the household's (partner, WW, another benefit); no claim



class Step(IntEnum):
    """Participation ladder (participatieladder) [M16]."""

    ISOLATED = 1
    SOCIAL_CONTACTS = 2
    ORGANISED_ACTIVITY = 3
    UNPAID_WORK = 4
    SUPPORTED_WORK = 5
    PAID_WORK = 6


UNPLACED = 0  # participation step of a resident not yet placed on the ladder (placed at the next dynamics phase)


class Intake(IntEnum):
    """A resident's pending move to another law's desk under partitions (a cross-law intake) [BK18][FW19]."""

    NONE = 0
    WAITING = 1  # referred; the intake takes place at ``Population.intake_due``
    TAKEN = 2  # the intake took place: on the client manager's list while the Wmo place continues


class Domain(IntEnum):
    """Life domains on which a resident has a problem severity in [0, 1]."""

    WORK_INCOME = 0
    MENTAL = 1
    INTELLECTUAL = 2  # LVB, licht verstandelijk beperkt; does not change over time
    PHYSICAL = 3
    DEBTS = 4
    ISOLATION = 5
    ADDICTION = 6
    HOUSEHOLD = 7  # household / parenting


N_DOMAINS = len(Domain)
# Which domains a single-domain P-wet diagnosis sees [M16][R12]: distance to work only.
PWET_VIEW = (Domain.WORK_INCOME,)
# What a Wmo kitchen-table talk sees [M16]: the self-reliance domains (finances and addiction
# included, as in a self-reliance matrix), not work.
WMO_VIEW = tuple(d for d in Domain if d != Domain.WORK_INCOME)
# Problems that block work when nobody addresses them ("first debts and addiction, then work") [R12].
BLOCKING_DOMAINS = (Domain.DEBTS, Domain.ADDICTION, Domain.MENTAL, Domain.HOUSEHOLD)
# Domains that enter self-reliance (zelfredzaamheid): everything except work/income.
SELF_RELIANCE_DOMAINS = tuple(d for d in Domain if d != Domain.WORK_INCOME)
# Domains that change with work, activity, inactivity and the household (not LVB, not work/income).
DYNAMIC_DOMAINS = tuple(d for d in Domain if d not in (Domain.WORK_INCOME, Domain.INTELLECTUAL))
HEALTH_DOMAINS = (Domain.MENTAL, Domain.PHYSICAL, Domain.ADDICTION)
ACTIVITY_DOMAINS = (Domain.ISOLATION, Domain.MENTAL)
GUIDANCE_DOMAINS = (Domain.DEBTS, Domain.HOUSEHOLD, Domain.ADDICTION, Domain.MENTAL)
WORK_GAIN_DOMAINS = (Domain.MENTAL, Domain.PHYSICAL, Domain.ISOLATION, Domain.DEBTS)
INACTIVITY_DOMAINS = (Domain.MENTAL, Domain.PHYSICAL, Domain.ISOLATION)
# Domains whose severity lowers wage value (health and LVB), at creation and as health changes [M16].
WAGE_DOMAINS = (*HEALTH_DOMAINS, Domain.INTELLECTUAL)


class Instrument(IntEnum):
    """Instruments of both laws plus benefit and case management, as booked in the ledger."""

    BENEFIT = 0  # bijstand, P-wet income budget
    MEDIATION = 1  # work-first / mediation, P-wet
    JOB_COACHING = 2  # job coaching at the workplace, P-wet
    WAGE_SUBSIDY = 3  # loonkostensubsidie, P-wet (paid from the income budget)
    SHELTERED_WORK = 4  # beschut werk, P-wet
    SOCIAL_FIRM = 5  # re-integration trajectory at a social firm, P-wet
    TRAINING = 6  # training / schooling, P-wet
    DAY_ACTIVITIES_WORKLIKE = 7  # arbeidsmatige dagbesteding (e.g. at a social firm), Wmo
    DAY_ACTIVITIES = 8  # dagbesteding, Wmo
    GUIDANCE = 9  # individuele begeleiding, Wmo
    HOUSEHOLD_HELP = 10  # hulp bij het huishouden, Wmo
    CASE_MANAGEMENT = 11  # staff: client managers, Wmo consultants, generalists, regisseurs
    VOLUNTEERING = 12  # volunteering / work in return for benefit (tegenprestatie, Pw art. 9), no indication [M16][FW19]


N_INSTRUMENTS = len(Instrument)


def bits(instruments) -> int:
    """Bit mask with one bit set per instrument (residents' provisions are stored this way)."""
    mask = 0
    for i in instruments:
        mask |= 1 << int(i)
    return mask

TRAJECTORY_INSTRUMENTS = (Instrument.MEDIATION, Instrument.SOCIAL_FIRM, Instrument.TRAINING)
DAY_INSTRUMENTS = (Instrument.DAY_ACTIVITIES_WORKLIKE, Instrument.DAY_ACTIVITIES)
WMO_INSTRUMENTS = (
    Instrument.DAY_ACTIVITIES_WORKLIKE,
    Instrument.DAY_ACTIVITIES,
    Instrument.GUIDANCE,
    Instrument.HOUSEHOLD_HELP,
)
PWET_INSTRUMENTS = (
    Instrument.MEDIATION,
    Instrument.JOB_COACHING,
    Instrument.SOCIAL_FIRM,
    Instrument.TRAINING,
    Instrument.SHELTERED_WORK,
)
FIRM_INSTRUMENTS = (Instrument.SOCIAL_FIRM, Instrument.DAY_ACTIVITIES_WORKLIKE)
TRAJ_BITS = bits(TRAJECTORY_INSTRUMENTS)
DAY_BITS = bits(DAY_INSTRUMENTS)
WMO_BITS = bits(WMO_INSTRUMENTS)
FIRM_BITS = bits(FIRM_INSTRUMENTS)
ACTIVITY_BITS = TRAJ_BITS | DAY_BITS  # a trajectory or a day activity: at most one at a time
GUIDANCE_BIT = bits([Instrument.GUIDANCE])
WORKLIKE_BIT = bits([Instrument.DAY_ACTIVITIES_WORKLIKE])
VOLUNTEER_BIT = bits([Instrument.VOLUNTEERING])  # not an activity of ACTIVITY_BITS: status-neutral (practice.volunteering)
FIRM_TRAJECTORY_BIT = bits([Instrument.SOCIAL_FIRM])
# Bought per trajectory, paid in full when it starts ([M16] EUR 5,000 per activation trajectory,
# [BK18] EUR 3,000 per job-coaching trajectory); everything else is paid per month held.
LUMP_SUM_INSTRUMENTS = (Instrument.MEDIATION, Instrument.TRAINING, Instrument.JOB_COACHING)


class Holder(IntEnum):
    """Budget holders. POOLED is the transformation desk (all of it when integrated)."""

    PWET_INCOME = 0
    PWET_PARTICIPATION = 1
    WMO = 2
    POOLED = 3


N_HOLDERS = len(Holder)

class Claim(IntEnum):
    """How an instrument is granted: a right is paid whatever the budget; a discretionary instrument only within it."""

    RIGHT = 0  # the benefit (P-wet art. 11), the wage-cost subsidy (art. 10d), Wmo support after assessment (Wmo 2015 art. 2.3.5)
    DISCRETIONARY = 1  # re-integration instruments the college may offer (P-wet art. 7, 10), bought within a budget


# A law is data: each instrument's law (the holder that pays it under partitions) and how it is granted.
# A third law (the Youth Act) adds its holder and rows here.
LAWS = {
    Instrument.BENEFIT: (Holder.PWET_INCOME, Claim.RIGHT),
    Instrument.WAGE_SUBSIDY: (Holder.PWET_INCOME, Claim.RIGHT),  # paid from the income (BUIG) budget
    Instrument.MEDIATION: (Holder.PWET_PARTICIPATION, Claim.DISCRETIONARY),
    # Job coaching comes with every subsidised hire here (outcomes.py), not rationed by a budget: counted with the rights.
    Instrument.JOB_COACHING: (Holder.PWET_PARTICIPATION, Claim.RIGHT),
    # Beschut werk: an obligation up to the state's number of places since 2017 (Pw art. 10b; Stb. 2016, 519).
    Instrument.SHELTERED_WORK: (Holder.PWET_PARTICIPATION, Claim.RIGHT),
    Instrument.SOCIAL_FIRM: (Holder.PWET_PARTICIPATION, Claim.DISCRETIONARY),
    Instrument.TRAINING: (Holder.PWET_PARTICIPATION, Claim.DISCRETIONARY),
    Instrument.DAY_ACTIVITIES_WORKLIKE: (Holder.WMO, Claim.RIGHT),
    Instrument.DAY_ACTIVITIES: (Holder.WMO, Claim.RIGHT),
    Instrument.GUIDANCE: (Holder.WMO, Claim.RIGHT),
    Instrument.HOUSEHOLD_HELP: (Holder.WMO, Claim.RIGHT),
    # Volunteering offered to benefit clients without an indication (Pw art. 9 lid 1 sub c; [M16] Katwijk, Overschie):
    # open to whoever takes it up, not rationed by a budget, so counted with the rights as job coaching is.
    Instrument.VOLUNTEERING: (Holder.PWET_PARTICIPATION, Claim.RIGHT),
}
LAW_OF_INSTRUMENT = {i: holder for i, (holder, _) in LAWS.items()}
DISCRETIONARY_INSTRUMENTS = tuple(i for i, (_, claim) in LAWS.items() if claim == Claim.DISCRETIONARY)


class Desk(IntFlag):
    """Which intakes know a resident (a generalist's household intake sets both)."""

    NONE = 0
    PWET = 1  # benefit intake, P-wet client manager
    WMO = 2  # Wmo consultant / neighbourhood team


class Member(IntEnum):
    """A resident's place in the household: the benefit unit is the head and the partner; housemates have their own."""

    HEAD = 0
    PARTNER = 1
    HOUSEMATE = 2  # an adult child or other adult: a cost-sharer, not part of the head's benefit unit


class Disability(IntEnum):
    """Dominant disability type, for group outcomes."""

    NONE = 0
    PSYCHIATRIC = 1
    INTELLECTUAL = 2
    PHYSICAL = 3


class Role(IntEnum):
    """Case-worker roles [R12][M16]."""

    CLIENT_MANAGER = 0  # P-wet klantmanager
    WMO_CONSULTANT = 1  # Wmo consultant / neighbourhood team member
    GENERALIST = 2  # integrated generalist social worker
    REGISSEUR = 3  # case director for multi-problem households


class ExitReason(IntEnum):
    """Why a resident leaves the modelled population."""

    RETIREMENT = 0
    MOVED = 1
    DEATH = 2
    RECOVERED = 3  # stable in regular work without problems: out of the social domain
    OTHER_INCOME = 4  # on other income past the return horizon: out of the social domain (benefit.return_horizon_years)


# Spell bands (years) for the dynamics the calibration checks (issue: calibration and validation).
STOCK_SPELL_EDGES = (1.0, 2.0, 5.0)
STOCK_SPELL_LABELS = ("lt1", "1to2", "2to5", "gt5")
EXIT_SPELL_EDGES = (1.0, 3.0)
EXIT_SPELL_LABELS = ("lt1", "1to3", "gt3")
RETURN_WINDOWS = (1.0, 2.0, 5.0)  # years after leaving benefit
WORK_END_WINDOWS = (6, 12, 18)  # months after leaving benefit for a job: the [CBS24] cohort's checkpoints

AGE_BANDS = ((18, 27), (27, 45), (45, 55), (55, 200))
AGE_BAND_LABELS = ("18-26", "27-44", "45-54", "55+")
WAGE_BAND_EDGES = (0.3, 0.5, 0.8)
WAGE_BAND_LABELS = ("<30%", "30-50%", "50-80%", ">=80%")


class Kind(IntEnum):
    """Where a household head comes from: the initial stocks or this year's inflow."""

    STOCK_BENEFIT = 0
    STOCK_WMO = 1
    STOCK_SUPPORTED = 2
    STOCK_HIDDEN = 3
    INFLOW_REPORT = 4  # reported for a benefit; applies or not (non-take-up)
    INFLOW_WMO = 5
    MEMBER = 6  # an extra adult household member


class Event(IntEnum):
    """Identity of each random event: part of the common-random-number stream key."""

    INFLOW_COUNT = 30
    INFLOW_PROFILE = 31
    INFLOW_SEVERITY = 32  # + domain
    INFLOW_SIZE = 50
    INFLOW_TAKE_UP = 51
    INFLOW_WAGE = 52
    INFLOW_AGE = 53
    INFLOW_SPELL = 54
    INFLOW_MOTIVATION = 55
    INFLOW_DISCRIMINATION = 56
    INFLOW_MONTH = 57
    EXIT_MOVE = 60
    EXIT_DEATH = 61
    SEVERITY_NOISE = 70  # + domain
    REACH = 90
    REACH_MONTH = 89
    HOUSEHOLD_FIND = 91
    DESK = 92
    WMO_SELF_REFERRAL = 93
    FIRM_REFERRAL = 94
    CROSS_INTAKE = 95
    JOB = 100
    JOB_MONTH = 102
    OTHER_EXIT = 103
    JOB_LOSS = 104
    DROPOUT = 105
    LOCK_IN = 106
    LVB_STAY = 107
    TO_SHELTERED = 109
    INTAKE_MONTH = 96  # month of a referral to a cross-law intake
    FALL_THROUGH = 97  # a referral between the laws' desks is lost
    LADDER = 98  # a move on the participation ladder
    RETURN = 110  # the other income ends (return to benefit when entitled)
    RETURN_MONTH = 111
    LOSS_TO_BENEFIT = 112  # a job loser claims at once (else other income first)
    HIRE_YEAR_LOSS = 113  # a job lost in the year of hiring
    OTHER_EXIT_MONTH = 114
    EXIT_YEAR_RETURN = 115  # a return in the year of the exit to other income
    INFLOW_PARTNER = 58
    INFLOW_OWN_INCOME = 42  # whether a resident out of sight has own income, and in which band
    INFLOW_OWN_INCOME_LEVEL = 43  # where in the band
    TAKE_UP = 122  # a found, entitled household claims or not
    TRIAGE = 120
    VOLUNTEER = 130  # a benefit client takes up volunteering offered without an indication (practice.volunteering)
    WALK_IN = 131  # a resident walks into day activities without an assessment (practice.open_access)
    HOUSEHOLD_INTAKE = 121
