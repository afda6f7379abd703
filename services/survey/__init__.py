"""The citizen survey (spec §11): the public page citizens answer at a center, and the
tallier that folds their answers into per-center, per-round counts exactly once."""
