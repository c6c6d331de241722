import { describe, expect, it } from 'vitest';
import { contrastProblem, contrastRatio, onAccentColour, previewFromQuery, previewQuery, type PreviewPrompt } from './prompt-look.ts';

const STORED: PreviewPrompt = {
  texts: { title: 'Stored title', body: 'Stored body', allow: 'Allow', later: 'Later' },
  theme: { accent: '#2557d6', onAccent: '#ffffff', background: '#ffffff', text: '#1f2328', radius: 16, position: 'bottom-right' },
};

describe('the prompt’s colours', () => {
  it('measures contrast as WCAG 2.2 does, and picks the readable label colour on the accent', () => {
    expect(contrastRatio('#000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrastRatio('#777777', '#ffffff')).toBeCloseTo(4.48, 2);
    expect(onAccentColour('#ffd400')).toBe('#111111');
    expect(onAccentColour('#0f766e')).toBe('#ffffff');
    expect(contrastProblem('#1f2328', '#ffffff')).toBeUndefined();
    expect(contrastProblem('#bbbbbb', '#ffffff')).toBe('text #bbbbbb on background #ffffff has a contrast of 1.9:1; at least 4.5:1 is needed to be readable (WCAG 2.2, 1.4.3)');
  });
});

describe('a preview’s prompt from its query', () => {
  it('round-trips a prompt through its query string', () => {
    const prompt: PreviewPrompt = {
      texts: { title: 'Deals <b>&</b> more?', body: 'Body', allow: 'Yes', later: 'No' },
      theme: { accent: '#ffd400', onAccent: '#111111', background: '#111', text: '#eeeeee', radius: 0, position: 'center', logoUrl: 'https://cdn.shop.example/l.svg' },
    };
    expect(previewFromQuery(previewQuery(prompt), STORED)).toEqual(prompt);
  });

  it('draws what is not valid (yet) as the fallback has it, so nothing unchecked reaches a stylesheet', () => {
    const query = new URLSearchParams({
      title: '   ',
      accent: '#12',
      background: 'red;}body{display:none',
      text: '#abc',
      radius: '33',
      position: 'middle',
      logo: 'http://cdn.shop.example/logo.png',
      body: 'x'.repeat(400),
    });
    expect(previewFromQuery(query, STORED)).toEqual({
      texts: { title: 'Stored title', body: 'x'.repeat(300), allow: 'Allow', later: 'Later' },
      theme: { accent: '#2557d6', onAccent: '#ffffff', background: '#ffffff', text: '#abc', radius: 16, position: 'bottom-right' },
    });
    expect(previewFromQuery(new URLSearchParams({ logo: 'https://user:pw@cdn.shop.example/l.png' }), STORED).theme.logoUrl).toBeUndefined();
  });
});
