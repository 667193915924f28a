"""Choosing cohorts: the problem, its constraints, the search, explanations and reserves (pure)."""

from .problem import Problem, build_problem
from .search import FEASIBLE, OPTIMAL, Cohort, Solution, drawn_below_best, solve, solve_replacement
from .settings import SelectionParams

__all__ = ["FEASIBLE", "OPTIMAL", "Cohort", "Problem", "SelectionParams", "Solution", "build_problem", "drawn_below_best",
           "solve", "solve_replacement"]
