"""The yearly phases, in the order ``SocialDomainModel.step`` runs them.

Each is a module with ``run(pop, year, funding, actors, p, streams)``: explicit inputs, no model.
"""
