"""Evaluation of AIP: the adversarial evaluation (``eval.attacks``) and load and faults
(``eval.load``). Neither is part of the reference or the conformance suite."""
