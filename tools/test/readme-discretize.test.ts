import { describeReadme } from '../readme/describe-readme';

describeReadme('packages/discretize/README.md', 'discretize');
