"""Robot, camera and teleop interfaces and their drivers (no learning code here)."""
