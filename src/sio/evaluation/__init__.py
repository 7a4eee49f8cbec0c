"""The evaluation of the scheme (scheme.md §5; `sio evaluer`): equal treatment given need, needs
coverage against the criteria, and the trial against the control municipalities.

- `frame`: one analysis frame of person-years from the input data;
- `equal_treatment`: intra-class correlation, need-standardised rates with funnel limits, the Gini
  of municipal rates against chance;
- `coverage`: decided volume within, below and above the criteria's range;
- `did`: difference in differences and an event study with randomisation inference;
- `evaluate`: all of them at once, as one result;
- `report`, `charts`: the result as JSON, an xlsx workbook and an HTML page with SVG charts.

Statistics here are floats (they are estimates, not money): no figure of them is paid.
"""
