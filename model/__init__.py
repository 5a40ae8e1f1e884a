"""Ontschot model: the Mesa model, its agents, rules and parameter set."""

from model.model import PARAMETERS, SocialDomainModel
from model.parameters import ParameterError, ParameterSet

__all__ = ["SocialDomainModel", "ParameterSet", "ParameterError", "PARAMETERS"]
