"""Run control and run read routes (CONTRACT §3.3): owned by the pipeline work."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1/automation", tags=["runs"])
