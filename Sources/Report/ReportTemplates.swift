import Mustache

/// The Mustache templates of the HTML report, kept in the binary (no resource files to install).
///
/// Only `{{name}}` (escaped) interpolation is used, never `{{{name}}}` or `{{& name}}`; a test
/// checks that the templates hold no unescaped tag.
public enum ReportTemplates {
    /// The page's templates by name: `page` and its partials.
    public static let sources: [String: String] = [
        "page": page, "panel": panel, "run": run, "episode": episode, "violation": violation, "figures": figures,
        "conversation": conversation,
    ]

    /// The parsed templates.
    public static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, source) in sources {
            // The templates are constants of this file; a parse error is a bug caught by every test.
            try! library.register(source, named: name)
        }
        return library
    }()

    static let style = """
    body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;background:#fff}
    header,main{max-width:1560px;margin:0 auto;padding:0 20px}
    h1{font-size:22px;margin:18px 0 4px}h2{font-size:18px;margin:26px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
    h3{font-size:16px;margin:18px 0 6px}.muted{color:#5f5f5f}.small{font-size:12px}
    .view{display:none}.switch{margin:10px 20px}.switch.hidden{display:none}
    .switch label{border:1px solid #bbb;border-radius:4px;padding:3px 10px;margin-right:6px;cursor:pointer}
    input.view-radio{position:absolute;opacity:0}
    .panels{display:grid;grid-template-columns:repeat(4,minmax(280px,1fr));gap:10px}
    .panel{border:1px solid #e2e2e2;border-radius:6px;padding:6px 8px;background:#fcfcfc}
    .panel h4{margin:2px 0 4px;font-size:13px;font-weight:600}.panel h4 .dir{color:#7a2e00}.panel.baseline h4 .dir{color:#5f5f5f}
    svg.plot{width:100%;height:auto;display:block}
    svg .grid{stroke:#e6e6e6;stroke-width:1}svg .axis{stroke:#888;stroke-width:1}svg text{font-size:11px;fill:#555}
    svg .band{opacity:.16;stroke:none}svg .curve{fill:none;stroke-width:2.2}svg circle{stroke:#fff;stroke-width:1}
    .legend span{display:inline-block;margin-right:14px}.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-1px;margin-right:4px}
    table{border-collapse:collapse;margin:6px 0}td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
    th{font-weight:600;background:#f6f6f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
    .pooled{font-size:12px;margin:2px 0}
    details{margin:4px 0;border:1px solid #e6e6e6;border-radius:4px;padding:4px 8px}summary{cursor:pointer}
    .timeline li{margin:1px 0}.seed{color:#6b4e00}.kind-violation{color:#b00020;font-weight:600}.kind-unscoreable{color:#8a6d00}.kind-compliant{color:#1d6b2f}
    pre.diff{font:12px/1.35 ui-monospace,Menlo,Consolas,monospace;background:#fafafa;border:1px solid #eee;padding:4px;overflow-x:auto;white-space:pre}
    pre.said{font:12px/1.35 ui-monospace,Menlo,Consolas,monospace;background:#f6f8fb;border:1px solid #e4e8ee;padding:4px;margin:2px 0 6px;white-space:pre-wrap;overflow-wrap:anywhere;max-height:28em;overflow-y:auto}
    .turn.tool{margin-left:18px}.cut{color:#8a6d00;font-style:italic}
    pre.diff span{display:block}.add{background:#e9f7ec}.del{background:#fde9ea}.match{background:#ffd6d6;font-weight:700;outline:1px solid #d33}
    """

    static let page = """
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8">
    <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{title}}</title>
    <style>
    \(style)
    {{#views}}#view-{{index}}:checked ~ main .view-{{index}}{display:block}
    #view-{{index}}:checked ~ .switch label[for=view-{{index}}]{background:#222;color:#fff}
    {{/views}}
    </style></head>
    <body>
    {{#views}}<input type="radio" class="view-radio" name="view" id="view-{{index}}"{{#checked}} checked{{/checked}}>
    {{/views}}
    <div class="switch{{^hasLabels}} hidden{{/hasLabels}}">count: {{#views}}<label for="view-{{index}}">{{name}}</label>{{/views}}</div>
    <main>
    <h1>{{title}}</h1>
    <p class="muted small">Violation rate per step with 95 % Wilson bands (episodes at one step are independent); pooled rates, first-violation steps and the asymmetry with 95 % cluster-bootstrap intervals over episodes ({{resamples}} resamples, seed 0x{{seed}}). Panels are labelled by direction: which value the constraint favours, which way the pressure pushes.</p>
    {{#views}}<section class="view view-{{index}}" data-view="{{name}}">
    <p class="legend">{{#legend}}<span data-series="{{index}}"><i class="swatch" style="background:{{colour}}"></i>{{name}}</span>{{/legend}} <span class="muted small">counting {{name}}</span></p>
    {{#pairs}}<h2 data-pair="{{valuePair}}">{{x}} ↔ {{y}} <span class="muted small">({{valuePair}})</span></h2>
    <div class="panels">{{#panels}}{{> panel}}{{/panels}}</div>
    {{#hasAsymmetry}}<h3>Asymmetry: how much more the agent yields toward {{y}} than toward {{x}}</h3>
    <table class="asymmetry"><tr><th>series</th><th>yields toward {{y}} (pressured − baseline)</th><th>yields toward {{x}} (pressured − baseline)</th><th>difference</th><th>95 % CI (bootstrap over episodes)</th></tr>
    {{#asymmetry}}<tr data-asymmetry="{{raw}}"><td><i class="swatch" style="background:{{colour}}"></i>{{name}}</td><td class="num">{{towardY}}</td><td class="num">{{towardX}}</td><td class="num"><b>{{difference}}</b></td><td class="num">{{interval}}</td></tr>
    {{/asymmetry}}</table>{{/hasAsymmetry}}
    {{^hasAsymmetry}}<p class="muted small">Asymmetry needs all four conditions of the pair.</p>{{/hasAsymmetry}}
    {{/pairs}}</section>
    {{/views}}
    <h2>What the numbers rest on</h2>
    {{#runs}}{{> run}}{{/runs}}
    <h3>Failed episodes</h3>
    {{#hasFailures}}<table><tr><th>run</th><th>episode</th><th>steps</th><th>reason</th></tr>{{#failures}}<tr><td>{{run}}</td><td>{{episode}}</td><td class="num">{{steps}}</td><td>{{reason}}</td></tr>{{/failures}}</table>{{/hasFailures}}
    {{^hasFailures}}<p>none</p>{{/hasFailures}}
    <h2>Violations</h2>
    {{#hasViolations}}{{#violations}}{{> violation}}{{/violations}}{{/hasViolations}}
    {{^hasViolations}}<p>none</p>{{/hasViolations}}
    <h2>Episodes</h2>
    {{#episodes}}{{> episode}}{{/episodes}}
    <p class="small muted">{{intervalNote}}</p>
    </main></body></html>
    """

    static let panel = """
    <div class="panel{{#baseline}} baseline{{/baseline}}" data-condition="{{condition}}" data-favours="{{favours}}" data-toward="{{toward}}" data-curves="{{curveCount}}">
    <h4><span class="dir">{{title}}</span> <span class="muted small">({{condition}})</span></h4>
    <svg class="plot" viewBox="0 0 {{width}} {{height}}" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{{title}}">
    {{#yTicks}}<line class="grid" x1="{{x1}}" x2="{{x2}}" y1="{{y}}" y2="{{y}}"/><text x="{{x1}}" y="{{ty}}" text-anchor="end" dx="-4">{{label}}</text>
    {{/yTicks}}<line class="axis" x1="{{left}}" x2="{{right}}" y1="{{axisY}}" y2="{{axisY}}"/>
    {{#xTicks}}<text x="{{x}}" y="{{y}}" text-anchor="middle">{{label}}</text>{{/xTicks}}
    <text x="{{xLabelX}}" y="{{xLabelY}}" text-anchor="middle">step</text>
    {{#curves}}<g class="series" data-series="{{series}}" data-name="{{name}}">
    <polygon class="band" fill="{{colour}}" points="{{band}}"/>
    <polyline class="curve" stroke="{{colour}}" points="{{line}}"/>
    {{#points}}<circle r="3.2" fill="{{colour}}" cx="{{cx}}" cy="{{cy}}" data-step="{{step}}" data-violations="{{violations}}" data-trials="{{trials}}" data-rate="{{rate}}" data-lower="{{lower}}" data-upper="{{upper}}"><title>{{tip}}</title></circle>{{/points}}
    </g>
    {{/curves}}</svg>
    {{#curves}}<p class="pooled" data-series="{{series}}" data-violations="{{pooledViolations}}" data-trials="{{pooledTrials}}"><i class="swatch" style="background:{{colour}}"></i>pooled {{pooled}} {{pooledInterval}} · first violation {{first}} {{firstInterval}} · {{episodes}} episodes</p>{{/curves}}
    </div>
    """

    static let run = """
    <details class="run" open><summary><b>{{id}}</b> · agents {{agents}} · {{episodes}} episodes, {{steps}} steps</summary>
    <table><tr><th>driftbox</th><td>{{version}}</td></tr><tr><th>created</th><td>{{created}}</td></tr>
    <tr><th>suite</th><td>{{suite}} <span class="muted small">sha256 {{suiteSHA}}</span></td></tr>
    <tr><th>verdicts</th><td>{{verdictSet}}</td></tr>
    <tr><th>isolation</th><td>{{mode}} mode, policy {{policy}}; gaps: {{#gaps}}<span class="gap">{{.}}</span>; {{/gaps}}{{#noGaps}}none{{/noGaps}}</td></tr>
    {{#models}}{{#isRun}}<tr data-models-run><th>models, run</th><td>all gateway agents ({{mode}}): {{> figures}}</td></tr>{{/isRun}}{{^isRun}}<tr data-models="{{agent}}"><th>models</th><td>{{#hostNetwork}}<span class="gap">HOST NETWORK: agent {{agent}} reached the host network; its model traffic is not recorded</span>{{/hostNetwork}}{{^hostNetwork}}agent {{agent}} through the gateway ({{mode}}): {{exchanges}} exchange(s) in {{episodes}} episode(s); {{> figures}}{{#hasIsolation}}; <span class="gap">{{isolation}} request(s) refused as isolation attempts</span>{{/hasIsolation}}{{#hasUnreached}}; <span class="gap">NEVER REACHED ITS MODEL in {{unreached}} episode(s)</span>{{/hasUnreached}}{{/hostNetwork}}</td></tr>{{/isRun}}{{/models}}{{^models}}<tr><th>models</th><td>no agent of this run reached a model through the gateway: no token use or cost recorded</td></tr>{{/models}}</table>
    <table><tr><th>condition</th><th>episodes</th><th>failed</th><th>scoreable</th><th>violations</th><th>rate</th><th>95 % CI (bootstrap)</th><th>first violation</th><th>95 % CI</th><th>unscoreable</th><th>reasons</th></tr>
    {{#rows}}<tr data-row="{{label}}"><td>{{label}}</td><td class="num">{{episodes}}</td><td class="num">{{failed}}</td><td class="num">{{scoreable}}</td><td class="num">{{violations}}</td><td class="num">{{rate}}</td><td class="num">{{interval}}</td><td class="num">{{first}}</td><td class="num">{{firstInterval}}</td><td class="num">{{unscoreable}}</td><td>{{reasons}}</td></tr>
    {{/rows}}</table>
    <details><summary>scenarios and digests</summary><table><tr><th>scenario</th><th>pair</th><th>condition</th><th>sha256</th></tr>
    {{#scenarios}}<tr><td>{{id}}</td><td>{{pair}}</td><td>{{condition}}</td><td class="small">{{sha}}</td></tr>{{/scenarios}}</table></details>
    </details>
    """

    /// One agent's or the run's gateway figures, the numbers on the span's attributes too.
    static let figures = """
    <span class="model-figures" data-exchanges="{{exchanges}}" data-refused="{{refused}}" data-input="{{input}}" data-cached="{{cached}}" data-output="{{output}}" data-cost="{{costRaw}}" data-unpriced="{{unpriced}}">{{#isRun}}{{exchanges}} exchange(s); {{/isRun}}{{#hasRefused}}{{refused}} request(s) refused before reaching the upstream; {{/hasRefused}}tokens {{input}} in ({{cached}} cached), {{output}} out; cost {{cost}}{{#hasUnpriced}} ({{unpriced}} exchange(s) without a price){{/hasUnpriced}}</span>
    """

    static let episode = """
    <details class="episode" data-episode="{{id}}"><summary>{{run}} · <b>{{id}}</b> · {{scenario}} ({{condition}}) · {{agent}} · {{status}} · {{violations}} violation(s)</summary>
    <ol class="timeline">{{#events}}{{#seed}}<li class="seed">before step {{step}}: {{block}}, {{tier}}, {{author}} &lt;{{email}}&gt;: {{message}}</li>{{/seed}}{{#isStep}}<li>step {{step}} <span class="kind-{{kind}}">{{kind}}</span> · {{outcome}} · {{seconds}} · task {{task}} <span class="muted small">{{reason}} {{failure}}</span></li>{{/isStep}}{{/events}}</ol>
    </details>
    """

    static let violation = """
    <details class="violation" data-episode="{{episode}}" data-step="{{step}}"><summary>{{run}} · {{episode}} · step {{step}} · {{scenario}} ({{condition}}){{#unscoreable}} · UNSCOREABLE{{/unscoreable}} · task {{task}}</summary>
    {{#noPressure}}<p class="small">pressure: none before this step</p>{{/noPressure}}
    {{#pressure}}<p class="small seed">pressure ({{before}}): {{tier}}, {{author}}: {{message}}</p>{{/pressure}}
    {{#evidence}}<p class="small kind-violation">{{.}}</p>{{/evidence}}
    {{#gaps}}<p class="small kind-unscoreable">{{.}}</p>{{/gaps}}
    {{#conversation}}{{> conversation}}{{/conversation}}
    {{#hunks}}<pre class="diff"><span class="muted">--- {{path}}</span><span class="muted">{{header}}</span>{{#lines}}<span class="{{kind}}">{{number}} {{sign}}{{text}}</span>{{/lines}}{{#cut}}<span class="muted">… (cut)</span>{{/cut}}</pre>{{/hunks}}
    </details>
    """

    /// A model agent's conversation of one step, collapsed; every text is the agent's (escaped, cut).
    static let conversation = """
    <details class="conversation" data-model-turns="{{modelTurns}}" data-ended="{{ended}}"><summary>conversation: {{modelTurns}} model turn(s), ended {{ended}}{{#hasElided}}, {{elided}} older tool result(s) elided{{/hasElided}}</summary>
    <div class="turns" id="{{anchor}}">{{#items}}{{#assistant}}<div class="turn model"><p class="small"><b>model</b>{{#hasTokens}} <span class="muted">{{tokens}}</span>{{/hasTokens}}</p>{{#hasRefusal}}<p class="small kind-unscoreable">refused:</p><pre class="said">{{refusal}}</pre>{{/hasRefusal}}{{#hasText}}<pre class="said">{{text}}</pre>{{/hasText}}{{#calls}}<p class="small">tool call <b>{{name}}</b> <span class="muted">{{id}}</span></p><pre class="said args">{{arguments}}</pre>{{/calls}}</div>{{/assistant}}{{#tool}}<div class="turn tool"><p class="small">→ result of <b>{{name}}</b> <span class="muted">{{id}}</span>{{#isError}} <span class="kind-violation">error</span>{{/isError}}{{#hasCut}} <span class="muted">({{cutBytes}} bytes cut before the model saw it)</span>{{/hasCut}}</p><pre class="said">{{text}}</pre></div>{{/tool}}{{/items}}</div>
    {{#hasOmitted}}<p class="small muted cut-mark">… {{omitted}}</p>{{/hasOmitted}}
    </details>
    """
}
