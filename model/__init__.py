"""Ontschot model: the Mesa model, its agents, rules and parameter set.

``SocialDomainModel`` is loaded on first use, so checking parameters and scenario files
(``model.parameters``) does not import the simulation.
"""

from model.parameters import PARAMETERS, ParameterError, ParameterSet

__all__ = ["SocialDomainModel", "ParameterSet", "ParameterError", "PARAMETERS"]


def __getattr__(name: str):
    if name == "SocialDomainModel":
        from model.model import SocialDomainModel

        return SocialDomainModel
    raise AttributeError(f"module 'model' has no attribute {name!r}")
