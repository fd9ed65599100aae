import { describeReadme } from '../readme/describe-readme';

describeReadme('packages/nn/README.md', 'nn');
