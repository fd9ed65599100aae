import { describeReadme } from '../readme/describe-readme';

describeReadme('packages/loss/README.md', 'loss');
