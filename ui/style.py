"""The UI's styles (kept in Python so an installed package carries them)."""

CSS = r"""
:root { --cite: #1d4ed8; --cite-bg: #e0ebff; --mark: #fff1a8; --ok: #15803d; --warn: #b45309; --bad: #b91c1c; }
.gradio-container { width: 100% !important; max-width: min(1600px, 100vw) !important; margin: 0 auto !important; }
#tab-search, #tab-docs, #docs-main, #hits-table, #docs-table { min-width: 0 !important; max-width: 100%; }
.gradio-container, .gradio-container * { font-family: "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC",
  "Microsoft YaHei", sans-serif; }

/* Gradio titles its toasts in English ("Warning"): say it in Chinese */
.toast-title { font-size: 0 !important; }
.toast-title::before { font-size: 14px; font-weight: 600; }
.toast-title.warning::before { content: "提示"; }
.toast-title.info::before { content: "完成"; }
.toast-title.success::before { content: "成功"; }
.toast-title.error::before { content: "出错"; }
.toast-message-text { font-size: 14px !important; line-height: 1.7 !important; }

/* header */
.app-header { display: flex; align-items: center; justify-content: space-between; gap: 16px; flex-wrap: wrap;
  padding: 6px 4px 2px; }
.brand { display: flex; align-items: center; gap: 12px; }
.logo { width: 42px; height: 42px; border-radius: 10px; background: linear-gradient(135deg, #1e40af, #3b82f6);
  color: #fff; font-size: 22px; font-weight: 700; display: flex; align-items: center; justify-content: center; }
.app-title { font-size: 22px; font-weight: 700; color: #0f172a; line-height: 1.2; }
.app-sub { font-size: 13px; color: #64748b; margin-top: 2px; }
.index-status { font-size: 12.5px; color: #334155; background: #f1f5f9; border: 1px solid #e2e8f0;
  border-radius: 999px; padding: 4px 12px; }
.index-status.empty { color: var(--warn); background: #fffbeb; border-color: #fde68a; }

#conversation .html-container, #sources .html-container, #chat-status .html-container,
#docs-status .html-container, #search-status .html-container, .plain-html .html-container { padding: 0 !important; }
.panel-title { font-size: 15px; font-weight: 600; color: #0f172a; margin: 2px 0 6px; }
.panel-title span { font-size: 12px; font-weight: 400; color: #64748b; margin-left: 8px; }
.hint, .hint p { font-size: 12.5px !important; color: #64748b !important; }

/* conversation */
#conversation .conv { height: calc(100vh - 390px); min-height: 360px; overflow-y: auto; padding: 12px 16px;
  border: 1px solid #e2e8f0; border-radius: 10px; background: #fff; scroll-behavior: smooth; }
.empty { color: #475569; padding: 48px 24px; text-align: center; line-height: 1.9; }
.empty-title { font-size: 16px; color: #1e293b; margin-bottom: 8px; }
.empty-hint { font-size: 13.5px; max-width: 560px; margin: 0 auto; }
.turn { padding: 10px 0 14px; border-bottom: 1px dashed #e2e8f0; }
.turn:last-child { border-bottom: none; }
.q, .a { display: flex; gap: 10px; align-items: flex-start; }
.q { margin-bottom: 10px; }
.who { flex: none; width: 26px; height: 26px; border-radius: 6px; font-size: 13px; font-weight: 700;
  display: flex; align-items: center; justify-content: center; margin-top: 2px; }
.q .who { background: #e2e8f0; color: #334155; }
.a .who { background: #1e40af; color: #fff; }
.qtext { font-size: 15.5px; font-weight: 600; color: #0f172a; line-height: 1.7; flex: 1; white-space: pre-wrap; }
.qno { color: #94a3b8; font-size: 12px; margin-top: 4px; }
.abody { flex: 1; min-width: 0; }
.answer { font-size: 15px; line-height: 1.9; color: #1e293b; }
.answer p { margin: 0 0 6px; }
.answer ul { margin: 2px 0 6px; padding-left: 20px; list-style: disc; }
.answer li { margin: 4px 0; }
.sent.v-warn { text-decoration: underline dotted #d97706; text-underline-offset: 4px; }
.sent.v-muted { color: #475569; }
a.cite, span.cite { display: inline-block; font-size: 12px; line-height: 1.45; font-weight: 600; padding: 0 5px;
  margin: 0 1px; border-radius: 5px; color: var(--cite); background: var(--cite-bg); text-decoration: none;
  vertical-align: 2px; cursor: pointer; }
a.cite:hover { background: var(--cite); color: #fff; }
span.cite.pending { color: #64748b; background: #f1f5f9; cursor: default; }
span.cite.demo { cursor: default; }
.refused { background: #fffbeb; border: 1px solid #fde68a; color: #78350f; border-radius: 8px; padding: 8px 12px;
  font-size: 14.5px; line-height: 1.8; }
.caret { display: inline-block; width: 8px; height: 16px; background: #3b82f6; vertical-align: -2px;
  animation: blink 1s steps(2) infinite; }
@keyframes blink { 50% { opacity: 0; } }
.status-line { font-size: 13px; color: #475569; margin-top: 6px; display: flex; align-items: center; gap: 8px; }
.spinner { width: 13px; height: 13px; border: 2px solid #cbd5e1; border-top-color: #2563eb; border-radius: 50%;
  animation: spin .8s linear infinite; }
@keyframes spin { to { transform: rotate(360deg); } }
.checks { margin-top: 8px; font-size: 13px; color: #334155; }
.checks summary { cursor: pointer; color: var(--ok); user-select: none; }
.checks.problem summary { color: var(--warn); }
.checks ol { margin: 6px 0 0; padding-left: 4px; list-style: none; }
.checks li { margin: 4px 0; line-height: 1.7; display: flex; flex-wrap: wrap; gap: 6px; align-items: baseline; }
.checks .ctext { flex: 1; min-width: 200px; }
.checks .reason { width: 100%; padding-left: 86px; color: var(--bad); font-size: 12px; }
.badge { flex: none; font-size: 11.5px; border-radius: 4px; padding: 0 6px; white-space: nowrap; }
.badge.ok { background: #dcfce7; color: var(--ok); }
.badge.warn { background: #fef3c7; color: var(--warn); }
.badge.bad { background: #fee2e2; color: var(--bad); }
.badge.muted { background: #f1f5f9; color: #64748b; }
.checks del { color: #991b1b; }
.notes { margin-top: 8px; display: flex; flex-direction: column; gap: 4px; }
.note { font-size: 13px; color: #1e3a8a; background: #eff6ff; border-radius: 6px; padding: 4px 10px; }
.note.warn { color: #78350f; background: #fffbeb; border: 1px solid #fde68a; }
.meta { font-size: 12px; color: #94a3b8; margin-top: 6px; }
.rewrite { font-size: 13px; color: #475569; background: #f8fafc; border-left: 3px solid #93c5fd; border-radius: 4px;
  padding: 3px 10px; margin: 0 0 8px; }
.rewrite .rq { color: #0f172a; }

/* question box and status */
#ask-row { align-items: stretch; margin-top: 6px; }
#ask-buttons { gap: 6px; justify-content: space-between; }
#ask-buttons button { width: 100%; }
.status { font-size: 13.5px; border-radius: 8px; padding: 6px 12px; margin: 2px 0; line-height: 1.7; }
.status.info { background: #eff6ff; color: #1e3a8a; }
.status.ok { background: #f0fdf4; color: #166534; }
.status.warn { background: #fffbeb; color: #92400e; border: 1px solid #fde68a; }
.status.error { background: #fef2f2; color: #991b1b; border: 1px solid #fecaca; }

/* sources */
#sources .src-scroll { position: relative; height: calc(100vh - 470px); min-height: 300px; overflow-y: auto;
  padding: 4px 10px 10px 4px; border: 1px solid #e2e8f0; border-radius: 10px; background: #f8fafc; }
.src-empty { color: #64748b; font-size: 13.5px; line-height: 1.9; padding: 28px 18px; }
.src-turn { margin: 6px 0 4px 6px; }
.src-turn-h { font-size: 13px; font-weight: 600; color: #334155; padding: 6px 2px; display: flex;
  justify-content: space-between; gap: 8px; }
details.src-turn > summary { cursor: pointer; color: #64748b; }
.src-turn-h .count { font-weight: 400; color: #94a3b8; white-space: nowrap; }
.src { background: #fff; border: 1px solid #e2e8f0; border-left: 4px solid #93c5fd; border-radius: 8px;
  padding: 10px 12px; margin: 8px 0; scroll-margin-top: 8px; transition: box-shadow .3s, border-color .3s; }
.src.active { border-color: #2563eb; border-left-color: #1d4ed8; box-shadow: 0 0 0 3px rgba(37, 99, 235, .18); }
.src.flash { animation: flash 1.6s ease-out; }
@keyframes flash { 0% { background: #dbeafe; } 100% { background: #fff; } }
.src-h { display: flex; align-items: baseline; gap: 8px; }
.src-h .num { font-weight: 700; color: var(--cite); font-size: 14px; }
.src-h .place { font-weight: 600; color: #0f172a; font-size: 14px; }
.src-title { font-size: 13.5px; color: #1e293b; margin-top: 2px; }
.src-meta { font-size: 12px; color: #64748b; margin-top: 2px; }
.src blockquote { margin: 8px 0 0; padding: 0; border: none; font-size: 14px; line-height: 1.85; color: #334155;
  text-align: justify; }
.src mark { background: var(--mark); color: #0f172a; padding: 1px 0; border-radius: 2px;
  box-decoration-break: clone; -webkit-box-decoration-break: clone; }
.src-note { font-size: 13px; color: #92400e; margin: 8px 0 0; }

#export-box, #settings-box { margin-top: 10px; }
#export-scope { margin-bottom: 4px; }

/* documents and retrieval tables */
#docs-table, #hits-table { font-size: 13.5px; }
#docs-status { min-height: 64px; }
#docs-status .status { margin-bottom: 6px; }
.docs-summary { font-size: 14px; color: #334155; margin: 4px 0 8px; }
.index-details { font-size: 12.5px; color: #475569; margin: 0 0 8px; }
.index-details summary { cursor: pointer; color: #64748b; }

/* Gradio's own English texts, said in Chinese whatever the browser's language */
#upload .wrap { font-size: 0 !important; }
#upload .wrap > * { display: none !important; }
#upload .wrap::after { content: "把文件拖到这里，或点击选择文件"; font-size: 14px; color: #475569; }
#eval-upload .wrap { font-size: 0 !important; }
#eval-upload .wrap > * { display: none !important; }
#eval-upload .wrap::after { content: "把评测集（.jsonl）拖到这里，或点击选择"; font-size: 14px; color: #475569; }
footer, .api-docs-link, a[href*="view=api"] { display: none !important; }

@media (max-width: 900px) {
  #conversation .conv { height: auto; min-height: 260px; max-height: 70vh; }
  #sources .src-scroll { height: auto; min-height: 0; max-height: 70vh; }
}

/* phones (390 px wide): one column, the question box full width, tables scroll sideways */
@media (max-width: 640px) {
  .gradio-container { padding: 0 6px !important; }
  .app-header { padding: 4px 0 0; gap: 6px; }
  .app-title { font-size: 19px; }
  .app-sub { font-size: 12px; }
  .logo { width: 36px; height: 36px; font-size: 19px; }
  .index-status { font-size: 12px; padding: 2px 10px; }
  #chat-row, #docs-row, #search-row, #search-options, #eval-row { flex-direction: column !important; gap: 8px; }
  #chat-row > *, #docs-row > *, #search-row > *, #search-options > *, #eval-row > * {
    width: 100% !important; min-width: 0 !important; max-width: 100% !important; flex: 1 1 auto !important; }
  #ask-row { flex-direction: column !important; gap: 6px; }
  #ask-row > * { width: 100% !important; min-width: 0 !important; max-width: 100% !important; }
  #ask-buttons { flex-direction: row !important; }
  #ask-buttons button { flex: 1; }
  #conversation .conv { padding: 8px 10px; min-height: 200px; }
  .empty { padding: 24px 8px; }
  .checks .reason { padding-left: 0; }
  .checks .ctext { min-width: 0; }
  #docs-table, #hits-table { overflow-x: auto !important; }
  .tab-wrapper button, button[role="tab"] { padding: 6px 10px !important; }
}
"""
