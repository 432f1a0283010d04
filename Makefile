# The lab's commands. Each first creates the environment in .venv if it is missing (scripts/setup.sh).
.PHONY: hub test lab slow baselines readme clean-env
PORT ?= 7860

hub:            ## set up, then serve the demo hub on http://127.0.0.1:$(PORT)
	@scripts/setup.sh
	GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=$${HF_HUB_OFFLINE:-1} .venv/bin/python -m apps.hub --port $(PORT)

.PHONY: demo-models
demo-models:    ## set up, then retrain the demos' default models into models/ (fp16 + record.json; minutes on a CPU)
	@scripts/setup.sh
	HF_HUB_OFFLINE=$${HF_HUB_OFFLINE:-1} LAB_PROGRESS=0 .venv/bin/python scripts/make_demo_models.py

test:           ## set up, then hygiene checks, nbdev_test and pytest tests/
	@scripts/test.sh

lab:            ## set up, then open JupyterLab on nbs/
	@scripts/setup.sh
	.venv/bin/jupyter lab nbs --ip 127.0.0.1 --no-browser $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

slow:           ## also run the cells flagged `#| slow`
	@scripts/setup.sh
	.venv/bin/nbdev_test --flags slow --n_workers 1 --timing

baselines:      ## re-record the papermill regression baselines (deliberate: review the diff!)
	@scripts/setup.sh
	.venv/bin/python -m lab.core.regress update-baselines

readme:         ## regenerate README.md from nbs/index.ipynb
	@scripts/setup.sh
	.venv/bin/python -m lab.core.regress readme

.PHONY: new-paper remove-paper
new-paper:      ## add a paper: nbs/papers/$(P)/ from nbs/papers/_template/, exported (make new-paper P=name)
	@scripts/setup.sh
	.venv/bin/python scripts/new_paper.py "$(P)"

remove-paper:   ## remove nbs/papers/$(P)/ and lab/papers/$(P)/ again, re-exported (make remove-paper P=name)
	@scripts/setup.sh
	.venv/bin/python scripts/new_paper.py --remove "$(P)"
