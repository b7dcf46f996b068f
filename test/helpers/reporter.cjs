// mocha's spec reporter plus one closing line in the plain form CI reads: "mocha: N passed, N failed, N skipped".
const Mocha = require('mocha')

class NetlensReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options)
    runner.once('end', () => {
      const { passes, failures, pending } = runner.stats
      process.stdout.write(`mocha: ${passes} passed, ${failures} failed, ${pending} skipped\n`)
    })
  }
}

module.exports = NetlensReporter
