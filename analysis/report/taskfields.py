"""Where each cost line of the model lands: its budget under partitions and its BBV task field.

One table (``COST_LINES``): every instrument of ``model.constants.Instrument`` (staff split into the
four case-worker roles of ``Role``) with the budget that pays for it under compartmentalised
funding and the task field ("taakveld") of the Besluit begroting en verantwoording provincies en
gemeenten (BBV) in which a Dutch municipality's finance department books it. The report uses it to
put a result onto the municipal budget; ``tests/test_report.py`` checks it against the model's own
law-of-instrument and staff tables.

Task fields of the social domain (programme 6), as defined since 2017 and refined in 2023 (the
2023 model splits 6.2 into access for the Wmo, youth and integral access, and 6.71 into aids,
household help, guidance and day activities; arbeidsmatige dagbesteding moved to 6.4):

- 6.1 Samenkracht en burgerparticipatie — general (non-individual) provisions; not modelled apart.
- 6.2 Toegang en eerstelijnsvoorzieningen (first named "Wijkteams") — intake and access teams.
- 6.3 Inkomensregelingen — benefits and wage-cost subsidies under the Participatiewet.
- 6.4 Begeleide participatie / WSW en beschut werk — sheltered work, old Wsw, arbeidsmatige dagbesteding.
- 6.5 Arbeidsparticipatie — provisions aimed at (re-)integration into paid work.
- 6.6 Maatwerkvoorzieningen (Wmo) — aids and home adaptations; not modelled.
- 6.71 Maatwerkdienstverlening 18+ — guidance, household help, Wmo day activities.
- 6.81 Geëscaleerde zorg 18+ — sheltered living and shelters; not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass

# Sources (pages of the stored public material used for the task-field definitions).
SRC_63 = "findo.nl/content/63---Inkomensregelingen (BBV 6.3: 'inkomensvoorzieningen en loonkostensubsidies op grond van de Participatiewet')"
SRC_64 = ("findo.nl/content/64---Begeleide-participatie (BBV 6.4 'WSW en beschut werk': beschut werken, bestaande Wsw, "
          "arbeidsmatige dagbesteding; re-integration belongs in 6.5)")
SRC_65 = "findo.nl/content/64---Begeleide-participatie (provisions aimed at (re-)integration into work 'horen thuis onder taakveld 6.5')"
SRC_671 = ("findo.nl/content/671---Maatwerkdienstverlening-18plus (BBV 6.71: individuele begeleiding, huishoudelijke "
           "verzorging; Wmo day activities on 6.71 'Dagbesteding (WMO)')")
SRC_62 = ("weststellingwerf.begrotingsapp.nl/begroting-2026 (task fields 'Toegang en eerstelijnsvoorziening Wmo' and "
          "'... Integraal'); taakveldenbegroting2023.bronckhorst.nl (the 2023 refinement of the social-domain task fields)")
ASSUMED_CM = ("assumption: a client manager's main task here is re-integration (6.5); a municipality that books benefit "
              "handling apart puts part of it on 6.3")

# The sources above as a reader cites them: publisher and what was read there (no web address or file name).
SOURCE_WORDS = {
    SRC_63: "Findo, BBV task field 6.3 Inkomensregelingen",
    SRC_64: "Findo, BBV task field 6.4 Begeleide participatie",
    SRC_65: "Findo, BBV task fields 6.4 and 6.5 (re-integration belongs in 6.5)",
    SRC_671: "Findo, BBV task field 6.71 Maatwerkdienstverlening 18+",
    SRC_62: "budgets of Weststellingwerf (2026) and Bronckhorst (2023): task field 6.2 Toegang",
    ASSUMED_CM: "assumption: a client manager's main task here is re-integration (6.5)",
}

TASK_FIELDS = {
    "6.1": "Samenkracht en burgerparticipatie",
    "6.2": "Toegang en eerstelijnsvoorzieningen",
    "6.3": "Inkomensregelingen",
    "6.4": "Begeleide participatie (WSW en beschut werk)",
    "6.5": "Arbeidsparticipatie",
    "6.6": "Maatwerkvoorzieningen (Wmo)",
    "6.71": "Maatwerkdienstverlening 18+",
    "6.81": "Geëscaleerde zorg 18+",
}
NOT_MODELLED = {
    "6.1": "general provisions without an individual decision (volunteers, social work, prevention) are not modelled apart",
    "6.6": "Wmo aids and home adaptations are not modelled",
    "6.81": "sheltered living and shelters (escalated care) are not modelled",
}

# Budgets a business case is drawn up for: the law's budgets. Generalists and regisseurs are Wmo-paid
# under partitions (neighbourhood teams, model/phases/opening.py LAW_HOLDER), so they count there.
BUDGETS = {
    "pwet_income": "P-wet income (BUIG: benefits, wage subsidy)",
    "pwet_participation": "P-wet participation (re-integration, sheltered work)",
    "wmo": "Wmo (incl. neighbourhood teams: generalists, regisseurs)",
}


STAFF_BOOKED = "spend_instrument_case_management"  # every holder's staff cost, booked when the year opens
SRC_TEAM = ("model/phases/opening.py staff_split: with generalist triage the Wmo pays a neighbourhood team of "
            "(1 - s) x triage share of the generalist posts; they triage light problems and are not desk workers, so "
            "active_generalist does not count them. " + SRC_62)
SOURCE_WORDS[SRC_TEAM] = ("the model's staff split: the Wmo pays the neighbourhood team's generalists for triage; "
                          "budgets of Weststellingwerf (2026) and Bronckhorst (2023): task field 6.2 Toegang")


@dataclass(frozen=True)
class CostLine:
    """One cost line: an instrument, a staff role, or the staff paid but not at a desk.

    An instrument is read from ``spend_instrument_<name>``, a role as ``active_<name>`` x salary, and
    ``staff_rest`` as the booked staff cost minus the roles' active FTE x salary.
    """

    kind: str  # "instrument", "role" or "staff_rest"
    name: str  # Instrument or Role name, lower case
    label: str
    budget: str  # key of BUDGETS: who pays under partitions
    task_field: str  # key of TASK_FIELDS
    source: str

    @property
    def column(self) -> str:
        """The results indicator this line is read from."""
        if self.kind == "staff_rest":
            return STAFF_BOOKED
        return f"spend_instrument_{self.name}" if self.kind == "instrument" else f"active_{self.name}"


COST_LINES = (
    CostLine("instrument", "benefit", "Social assistance benefit (bijstand)", "pwet_income", "6.3", SRC_63),
    CostLine("instrument", "wage_subsidy", "Wage-cost subsidy (loonkostensubsidie)", "pwet_income", "6.3", SRC_63),
    CostLine("instrument", "mediation", "Mediation / work-first trajectory", "pwet_participation", "6.5", SRC_65),
    CostLine("instrument", "job_coaching", "Job coaching at the workplace", "pwet_participation", "6.5", SRC_65),
    CostLine("instrument", "training", "Training / schooling", "pwet_participation", "6.5", SRC_65),
    CostLine("instrument", "social_firm", "Re-integration trajectory at a social firm", "pwet_participation", "6.5",
             SRC_65),
    CostLine("instrument", "volunteering", "Volunteering / work in return for benefit (tegenprestatie)",
             "pwet_participation", "6.5", SRC_65),
    CostLine("instrument", "sheltered_work", "Sheltered work (beschut werk)", "pwet_participation", "6.4", SRC_64),
    CostLine("instrument", "day_activities_worklike", "Work-like day activities (arbeidsmatige dagbesteding)", "wmo",
             "6.4", SRC_64),
    CostLine("instrument", "day_activities", "Day activities (dagbesteding, Wmo)", "wmo", "6.71", SRC_671),
    CostLine("instrument", "guidance", "Individual guidance (individuele begeleiding)", "wmo", "6.71", SRC_671),
    CostLine("instrument", "household_help", "Household help (huishoudelijke hulp)", "wmo", "6.71", SRC_671),
    CostLine("role", "client_manager", "Staff: P-wet client managers", "pwet_participation", "6.5", ASSUMED_CM),
    CostLine("role", "wmo_consultant", "Staff: Wmo consultants / neighbourhood team (intake)", "wmo", "6.2", SRC_62),
    CostLine("role", "generalist", "Staff: generalists (desk, neighbourhood-team triage)", "wmo", "6.2", SRC_62),
    CostLine("role", "regisseur", "Staff: regisseurs (case directors)", "wmo", "6.2", SRC_62),
    CostLine("staff_rest", "neighbourhood_team", "Staff: neighbourhood-team generalists for triage (paid, not at a desk)",
             "wmo", "6.2", SRC_TEAM),
)
