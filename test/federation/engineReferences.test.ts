import { remainingPagesWorthLoading } from '../../src/graphql/federation/engineReferences';

describe('remainingPagesWorthLoading', () => {
  it.each`
    total  | pageSize | missing | expected | why
    ${30}  | ${100}   | ${5}    | ${0}     | ${'the first page held the whole list'}
    ${100} | ${100}   | ${5}    | ${0}     | ${'exactly one page'}
    ${101} | ${100}   | ${1}    | ${0}     | ${'one more page costs as much as one details call'}
    ${101} | ${100}   | ${2}    | ${1}     | ${'one more page beats two details calls'}
    ${30}  | ${10}    | ${20}   | ${2}     | ${'two more pages beat twenty details calls'}
    ${30}  | ${10}    | ${2}    | ${0}     | ${'two details calls cost as much as two pages: details are exact'}
    ${1000}| ${100}   | ${9}    | ${0}     | ${'nine more pages cost as much as nine details calls'}
    ${1000}| ${100}   | ${10}   | ${9}     | ${'nine pages beat ten details calls'}
    ${0}   | ${100}   | ${4}    | ${0}     | ${'an empty list'}
    ${500} | ${100}   | ${0}    | ${0}     | ${'nothing missing'}
  `('total $total, pages of $pageSize, $missing missing → $expected ($why)', ({ total, pageSize, missing, expected }) => {
    expect(remainingPagesWorthLoading(total, pageSize, missing)).toBe(expected);
  });
});
