# ruff: noqa: E501
"""The zstd dictionary of stored JSON, version 1 (``packing``): skeletons of the engine's own JSON (events, node and
chat rows, continuations, developer-log bodies) with their keys, enum values and step names, so a small value
compresses against the vocabulary it shares with every other. FROZEN: rows packed with it name it by their first
byte, so it may never change; a better one is a new version with a new byte.
"""

DICT_V1 = (
    b'{"changes":{"lifecycle":"waiting_llm","continuation":{"node_id":"n.1.1","kind":"llm","request":{"llm_ref":"","purpose":"route.choose","reserve":{"calls":1,"tokens":0,"cost_usd":0.0},"output_step":"do.on_result"},"context":{"path":[],"excluded":[],"choices":1},"next_step":"route.on_choose","token":"n.1.1@1","created_at":"2026-01-01T00:00:00.000000Z"}}}'
    b'\n'
    b'{"changes":{"lifecycle":"running","continuation":{"node_id":"n.1","kind":"step","request":{"result":{"choice":"","reason":""}},"context":{},"next_step":"plan.on_review","token":"n.1@1","created_at":"2026-01-01T00:00:00.000000Z"}}}'
    b'\n'
    b'{"changes":{"continuation":{"node_id":"n.1","kind":"children","request":{},"context":{"round":0},"next_step":"plan.review","token":"","created_at":""},"lifecycle":"waiting_children"}}'
    b'\n'
    b'{"changes":{"continuation":{"node_id":"n.1","kind":"user","request":{"message":"","message_id":"","posted":true},"context":{"purpose":"ask.compose","transcript":[],"followups":0,"files":[]},"next_step":"ask.on_reply","token":"","created_at":""},"lifecycle":"waiting_user"}}'
    b'\n'
    b'{"changes":{"continuation":{"node_id":"n.1","kind":"step","request":{},"context":{},"next_step":"do.start","token":"","created_at":""},"action_id":"do","action_type":"do","termination_policy":"all","lifecycle":"running"}}'
    b'\n'
    b'"context":{"purpose":"do.execute","messages":[],"base":"","base_len":2,"functions":{"memory__list":"memory.list","memory__read":"memory.read","memory__write":"memory.write","memory__search":"memory.search"},"final_step":"do.on_result","final_context":{"guidance":""},"facts":{},"pending":[],"current":null,"reason":"","calls":0,"asked":false,"save_results":false},"next_step":"tools.on_turn"'
    b'\n'
    b'{"result":{"tool_calls":[],"output":{"report":"","artifact_title":null,"artifact":null},"content":""}}'
    b'\n'
    b'{"changes":{"continuation":null,"lifecycle":"done","report":"","context_up":{}}}'
    b'\n'
    b'{"changes":{"lifecycle":"failed","failure_reason":"","replans":1,"attempt":2,"inbox":[],"attachments":[],"needs":[],"needed_by":[]}}'
    b'\n'
    b'{"node":{"id":"n.1","swarm_id":"s","parent_id":"n","children":[],"needs":[],"needed_by":[],"depth":1,"action_id":"route","action_type":"route","directive":"","title":"","lifecycle":"spawned","termination_policy":"all","report":null,"failure_reason":null,"context_down":{},"context_up":{},"chat_id":"chat-n.1","replans":0,"attempt":1,"inbox":[],"attachments":[],"continuation":null,"created_at":"2026-01-01T00:00:00.000000Z","updated_at":"2026-01-01T00:00:00.000000Z"}}'
    b'\n'
    b'{"id":"n.1.llm1","step":"route.on_choose","model":"","tokens_in":0,"tokens_out":0,"cost_usd":0.0,"latency_ms":0.0,"error":null}'
    b'\n'
    b'{"step":"route.start","text":"Looking for the action that fits this subtask."}{"step":"plan.start","text":"Planning how to split the task into subtasks."}{"step":"do.start","text":"Working on the task."}{"step":"do.on_result","text":"Finished and reported."}{"step":"route.on_choose","text":"Routed to do."}'
    b'\n'
    b'{"message":{"id":"chat-n.1.m0","chat_id":"chat-n.1","index":0,"role":"agent","content":"","attachments":[],"reply_to":null,"created_at":""}}'
    b'\n'
    b'{"chat_id":"chat-n.1","changes":{"status":"awaiting_user","awaiting_since":""}}{"chat_id":"chat-n.1","changes":{"status":"open","message_count":1}}'
    b'\n'
    b'{"id":"chat-n.1","node_id":"n.1","title":"","status":"idle","message_count":0,"last_message":null,"last_role":null,"awaiting_since":null,"followups":0}'
    b'\n'
    b'{"request":"","raw_output":"{\\"choice\\": \\"\\", \\"reason\\": \\"\\"}","parsed_output":null}'
    b'\n'
    b'{"status":"running","reason":null}{"status":"completed","reason":null}{"delta":{"llm_calls":0,"tokens_in":0,"tokens_out":0,"cost_usd":0.0,"nodes":0,"replans":0}}'
    b'\n'
    b'"ask.evaluate" "ask.on_compose" "ask.on_evaluate" "ask.start" "confirm.on_review" "confirm.review" "plan.decompose" "plan.on_plan" "tool.args" "tool.in_doubt" "tool.on_approval" "tool.on_args" "tool.on_rerun" "tool.on_result" "tool.start" "tools.on_approval" "tools.on_result" "waiting_deps" "cancelled" "closed" "custom" "review" "ask" "plan"'
    b'\n'
)
