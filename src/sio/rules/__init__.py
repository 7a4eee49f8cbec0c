"""The scheme's rules (scheme.md §3), one module per legal concept.

| scheme.md | rule | module |
|---|---|---|
| §2 | participation: months, model, activity financing from `aktivitet_fra` | `participation` |
| §3.1 | base (grunnlag), extraction (uttrekk), demographic index | `uttrekk` |
| §3.1 | redirected toppfinansiering | `toppfinansiering` |
| §3.1, §3.2 | mergers: which predecessors a successor continues | `merger` |
| §3.2 | income supplement (inntektspåslag) with its cap | `inntektspaaslag` |
| §3.2 | the phase-out (nedtrapping) after an exit | `utfasing` |
| §3.2 | the project-cost limit of model A (a check) | `prosjektmidler` |
| §3.3 | activity grant: volume × price × k_aga × k_reise | `aktivitetstilskudd` |
| §3.3 | lump sum (rundsumtilskudd) | `rundsumtilskudd` |
| §3.4, §3.5 | model B's earmarked grant (also model A before activity financing) | `modell_b` |
| §3.5 | the Covid months (særordning) | `saerordning` |
| §3.6 | payments: a-konto, settlement, corrections, final settlement | `settlement` |

`sio.engine` wires them for a year over every municipality and rounds each annual figure once
(netto = tilskudd − uttrekk − toppfinansiering, §3.6).
"""
