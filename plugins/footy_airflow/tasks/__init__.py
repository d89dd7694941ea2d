"""Task code shared by the stage DAGs and goal_processing_pipeline (same code, same claims)."""
