"""Ontschot model: the Mesa model, its agents, rules and parameter set."""

from model.model import SocialDomainModel
from model.parameters import PARAMETERS, ParameterError, ParameterSet

__all__ = ["SocialDomainModel", "ParameterSet", "ParameterError", "PARAMETERS"]
