// The render stage's API and its sandbox: a template reaches only its context.
import { afterEach, describe, expect, it } from 'vitest';
import { createRenderer, raiseTemplateError, type TemplateSourceFile } from '../src/jinja/index.js';

function rendererFor(files: Record<string, string>, overrides: string[] = [], globals?: Record<string, unknown>) {
  const load = (name: string): TemplateSourceFile | undefined =>
    files[name] === undefined ? undefined : { path: `docker/${name}`, source: files[name]! };
  return createRenderer({ load, overrides: overrides.map((o) => load(o)!), ...(globals ? { globals } : {}) });
}

function render(source: string, context: Record<string, unknown> = {}, extra: Record<string, string> = {}) {
  return rendererFor({ 'img/Dockerfile.j2': source, ...extra }).render('img/Dockerfile.j2', context);
}

const g = globalThis as Record<string, unknown>;

describe('sandbox', () => {
  afterEach(() => {
    delete g.__kgPwned;
    delete (Object.prototype as Record<string, unknown>).polluted;
  });

  // Each attempt must give KG302 at the template's line, and run nothing.
  const escapes: [string, string][] = [
    ['constructor chain to Function', '{{ "".constructor.constructor("globalThis.__kgPwned = true")() }}'],
    ['constructor of a list', '{{ [].constructor }}'],
    ['constructor of a dict literal', "{{ {'a': 1}.constructor }}"],
    ['__proto__ of a context dict', '{{ cfg.__proto__ }}'],
    ['inherited toString as a variable', '{{ toString }}'],
    ['inherited valueOf as a variable', '{{ valueOf }}'],
    ['inherited hasOwnProperty of a dict', '{{ cfg.hasOwnProperty }}'],
    ['calling toString on a dict', '{{ cfg.toString() }}'],
    ['process', '{{ process.env }}'],
    ['require', "{{ require('fs') }}"],
    ['globalThis', '{{ globalThis }}'],
    ['a macro object', '{% macro m() %}{% endmacro %}{{ m.constructor }}'],
    ['caller inside a call block', '{% macro m() %}{{ caller() }}{% endmacro %}{% call m() %}{{ caller.constructor }}{% endcall %}'],
    ['the loop object', '{% for x in [1] %}{{ loop.constructor.constructor("return process")() }}{% endfor %}'],
    ['a builtin function', '{{ range.constructor("return process")() }}'],
    ['a bound Python method', '{{ [].pop.constructor }}'],
    ['the attr filter', '{{ "abc" | attr("constructor") }}'],
    ['item syntax on a str', '{{ "abc"["constructor"] }}'],
    ['Python-style class walk', '{{ "".__class__.__mro__[1].__subclasses__() }}'],
    ['format string attribute access', '{{ "{0.__class__}".format("x") }}'],
    ['a function passed in the context', '{{ fn.constructor("globalThis.__kgPwned = true")() }}'],
    ['namespace attribute set on __proto__', '{% set ns = namespace() %}{% set ns.__proto__ = 1 %}'],
    ['an imported module', '{% import "macros.j2" as m %}{{ m.constructor }}'],
    ['map over attribute constructor', '{{ ["a"] | map(attribute="constructor") | list }}'],
  ];

  it.each(escapes)('%s is KG302', (_what, line) => {
    const result = render(`FROM base\n${line}\n`, { cfg: { a: 1 }, fn: () => 'called' }, { 'macros.j2': '{% macro x() %}{% endmacro %}' });
    expect(g.__kgPwned).toBeUndefined();
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.diagnostic.code).toBe('KG302');
    expect(result.diagnostic.location).toMatchObject({ file: 'docker/img/Dockerfile.j2', line: 2 });
  });

  it('does not let a template pollute prototypes', () => {
    const result = render(
      "{% set d = {} %}{% set _ = d.update({'__proto__': {'polluted': 1}}) %}{% set _ = cfg.update({'__proto__': {'polluted': 2}}) %}[{{ {}.polluted }}][{{ d.polluted }}]",
      { cfg: {} },
    );
    expect(result).toEqual({ ok: true, text: '[][]' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('iterates only own keys of context dicts', () => {
    const proto = { inherited: 1 };
    const data = Object.assign(Object.create(proto) as Record<string, unknown>, { own: 2 });
    // A dict with a non-plain prototype is not a dict to templates: it cannot be iterated at all.
    expect(render('{% for k in d %}{{ k }}{% endfor %}', { d: data }).ok).toBe(false);
    expect(render('{% for k in d %}{{ k }}{% endfor %}', { d: { own: 2 } })).toEqual({ ok: true, text: 'own' });
  });

  it('does not let a render change the caller\'s context or the next render', () => {
    const context = { image_name: 'x', pkgs: ['a'] };
    const r = rendererFor({ 't.j2': "{% set _ = pkgs.append('b') %}{{ pkgs | join(',') }}" });
    expect(r.render('t.j2', context)).toEqual({ ok: true, text: 'a,b' });
    expect(r.render('t.j2', context)).toEqual({ ok: true, text: 'a,b' });
    expect(context.pkgs).toEqual(['a']);
  });

  it('reads missing harmless names as undefined, as Jinja2 does', () => {
    expect(render('[{{ lipsum }}][{{ self }}][{{ cfg.nothing }}][{{ cfg._private }}]', { cfg: {} })).toEqual({ ok: true, text: '[][][][]' });
  });
});

describe('diagnostics', () => {
  it('points a syntax error at the file and line, without nunjucks noise', () => {
    const result = render('FROM base\n{% if x %}\nRUN y\n');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.diagnostic).toMatchObject({ code: 'KG300', location: { file: 'docker/img/Dockerfile.j2', line: 2, column: 4 } });
    expect(result.diagnostic.message).not.toMatch(/unknown path|Line \d|parse\w+:/);
    expect(result.diagnostic.source).toBe('FROM base\n{% if x %}\nRUN y\n');
  });

  it('points a runtime error inside an imported macro at macros.j2', () => {
    const result = render('{% import "macros.j2" as m %}\n{{ m.boom() }}', {}, { 'macros.j2': '{% macro boom() %}\n{{ 1 // 0 }}\n{% endmacro %}' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.diagnostic).toMatchObject({ code: 'KG301', location: { file: 'docker/macros.j2', line: 2 } });
  });

  it('reports a missing template as KG303', () => {
    const result = render('x\n{% include "nope.j2" %}');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.diagnostic).toMatchObject({ code: 'KG303', location: { line: 2 } });
    const missing = rendererFor({}).render('gone/Dockerfile.j2', {});
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.diagnostic.code).toBe('KG303');
  });

  it('maps errors in a later override file to that file and line', () => {
    const r = rendererFor(
      {
        'img/Dockerfile.j2': 'FROM base\n{% block footer %}{% endblock %}\n',
        'first.j2': '{% extends parent_template %}\n{% block footer %}ok{% endblock %}\n',
        'second.j2': '{% extends parent_template %}\n\n{% set broken = 1 + "x" %}\n',
      },
      ['first.j2', 'second.j2'],
    );
    const result = r.render('img/Dockerfile.j2', {});
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.diagnostic).toMatchObject({ code: 'KG301', location: { file: 'docker/second.j2', line: 3 } });
      expect(result.diagnostic.source).toBe('{% extends parent_template %}\n\n{% set broken = 1 + "x" %}\n');
    }
  });

  it('gives raise_error-style globals their own diagnostic at the calling line', () => {
    const r = rendererFor({ 't.j2': 'a\n{{ raise_error("unsupported base") }}' }, [], { raise_error: raiseTemplateError });
    const result = r.render('t.j2', {});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.diagnostic).toMatchObject({ message: 'unsupported base', location: { line: 2 } });
  });
});

describe('overrides', () => {
  it('renders the merged override with parent_template, blocks, super() and customizable', () => {
    const r = rendererFor(
      {
        'img/Dockerfile.j2': "FROM base\n{% block header %}{% endblock %}\nRUN install {{ ['a', 'b'] | customizable('packages') | join(' ') }}\n{% block footer %}base footer{% endblock %}\n",
        'o1.j2': "{% extends parent_template %}\n{% set my_img_packages_append = ['c'] %}\n{% block header %}# o1{% endblock %}\n",
        'o2.j2': '{% extends parent_template %}\n{% block footer %}{{ super() }} + o2{% endblock %}\n',
      },
      ['o1.j2', 'o2.j2'],
    );
    expect(r.render('img/Dockerfile.j2', { image_name: 'my-img' })).toEqual({ ok: true, text: 'FROM base\n# o1\nRUN install a b c\nbase footer + o2' });
  });

  it("drops a later file's extends line wherever it stands, as kolla-build does", () => {
    const r = rendererFor(
      {
        'img/Dockerfile.j2': 'FROM base\n{% block footer %}{% endblock %}\n',
        'o1.j2': '{% extends parent_template %}\n{% block footer %}o1{% endblock %}\n',
        'o2.j2': '{# site overrides #}\n{% extends parent_template %}\n{% set unused = 1 %}\n',
      },
      ['o1.j2', 'o2.j2'],
    );
    expect(r.render('img/Dockerfile.j2', { image_name: 'img' })).toEqual({ ok: true, text: 'FROM base\no1' });
  });
});
