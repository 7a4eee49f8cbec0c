"""Scenarios: projections and national rollouts of the scheme with uncertainty
(`sio scenario kjor FILE`, docs/scenarios.md, decision 0015).

- `spec` — the YAML scenario file, validated (every mistake ``FILE: key.path: rule``);
- `population` — a population projection in SSB's table format (alternatives MMMM, LLML, HHMH …);
- `draws` — the draws of the uncertain inputs, from one seed;
- `anchor` — the anchor year computed by the engine and the activity kernel, turned into arrays;
  one *world* per parameter set and participation (the scenario and the baseline);
- `project` — the money rules as array arithmetic over municipalities × years × months per draw;
- `executors` — in this process, or as tasks of draws × bins of municipalities on Dask;
- `run` — a run from start to end; `summary` — p10/p50/p90; `output`, `fanchart` — the files.
"""
